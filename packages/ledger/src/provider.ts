/**
 * The payment-provider port, and a simulated provider for tests, demos and local
 * runs. A provider accepts a payment (collect a deposit, pay out a withdrawal) and
 * reports its outcome later through a signed webhook; it never learns a card number,
 * only the vault's token.
 */
import { bigintAsString } from "./logger.ts";
import { signWebhook } from "./webhook.ts";

export type PaymentDirection = "deposit" | "withdrawal";

export interface ProviderRequest {
  readonly paymentId: string;
  readonly direction: PaymentDirection;
  readonly accountId: number;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly cardToken: string | null;
}

export interface PaymentProvider {
  readonly name: string;
  /**
   * Accepts the payment for processing; the outcome arrives by webhook. Throws when the
   * provider is unreachable. The payment id is the idempotency key: submitting the same
   * payment again returns the first reference and moves no more money.
   */
  submit(request: ProviderRequest): Promise<{ readonly providerRef: string }>;
}

/** What a provider's webhook says about one payment. */
export interface ProviderEvent {
  readonly eventId: string;
  readonly paymentId: string;
  readonly providerRef: string;
  readonly outcome: "succeeded" | "failed";
  readonly reason?: string;
}

export type SimulatedDecision = { readonly outcome: "succeeded" } | { readonly outcome: "failed"; readonly reason: string };

export interface SimulatedProviderOptions {
  /** The webhook signing secret shared with the payments service. */
  readonly secret: string;
  /** Sends one webhook: the gateway's route when wired, the payments service directly in tests. */
  readonly deliver: (body: string, signature: string) => Promise<unknown>;
  readonly clock?: { nowMs(): number };
  /** Each payment's outcome; every payment succeeds unless told otherwise. */
  readonly decide?: (request: ProviderRequest) => SimulatedDecision;
  /** Delay before the webhook; null holds webhooks until `flush()`. */
  readonly delayMs?: number | null;
}

interface Queued {
  readonly body: string;
  readonly request: ProviderRequest;
}

export class SimulatedProvider implements PaymentProvider {
  readonly name = "simulated";
  readonly #options: SimulatedProviderOptions;
  readonly #queue: Queued[] = [];
  /** Reference per payment id: a repeated submission is the same payment. */
  readonly #refs = new Map<string, string>();
  #next = 0;
  /** Webhooks sent so far, with their signatures, for tests that replay them. */
  readonly sent: { readonly body: string; readonly signature: string }[] = [];
  /** Errors of webhooks delivered on a timer (nobody awaits those). */
  readonly deliveryErrors: unknown[] = [];

  constructor(options: SimulatedProviderOptions) {
    this.#options = options;
  }

  submit(request: ProviderRequest): Promise<{ readonly providerRef: string }> {
    const known = this.#refs.get(request.paymentId);
    if (known !== undefined) return Promise.resolve({ providerRef: known });
    this.#next += 1;
    const providerRef = `sim_${this.#next}`;
    this.#refs.set(request.paymentId, providerRef);
    const decision = this.#options.decide?.(request) ?? { outcome: "succeeded" };
    const event: ProviderEvent = {
      eventId: `evt_${providerRef}`,
      paymentId: request.paymentId,
      providerRef,
      outcome: decision.outcome,
      ...(decision.outcome === "failed" ? { reason: decision.reason } : {}),
    };
    const queued: Queued = { body: JSON.stringify(event, bigintAsString), request };
    const delayMs = this.#options.delayMs ?? null;
    if (delayMs === null) this.#queue.push(queued);
    else
      setTimeout(() => {
        this.#deliver(queued).catch((error: unknown) => this.deliveryErrors.push(error));
      }, delayMs);
    return Promise.resolve({ providerRef });
  }

  /** Sends every held webhook in order; returns how many. */
  async flush(): Promise<number> {
    let sent = 0;
    for (let queued = this.#queue.shift(); queued !== undefined; queued = this.#queue.shift()) {
      await this.#deliver(queued);
      sent += 1;
    }
    return sent;
  }

  get held(): number {
    return this.#queue.length;
  }

  async #deliver(queued: Queued): Promise<void> {
    const nowMs = this.#options.clock?.nowMs() ?? Date.now();
    const signature = signWebhook(this.#options.secret, queued.body, Math.floor(nowMs / 1_000));
    this.sent.push({ body: queued.body, signature });
    await this.#options.deliver(queued.body, signature);
  }
}
