/**
 * Sign-in: username and password, then the six-digit code of the authenticator
 * app (or a recovery code); single sign-on when the platform has an identity
 * provider. Used full-screen at start and as a dialog over the app when the
 * session has expired, so nothing behind it is lost.
 */
import { useEffect, useRef, useState, type FormEvent, type ReactElement } from "react";
import { ApiError, type Session } from "../api.ts";
import type { DashboardConfig } from "../config.ts";

interface TokenAnswer {
  readonly mfaRequired?: boolean;
  readonly mfaToken?: string;
  readonly accessToken?: string;
  readonly refreshToken?: string;
  readonly expiresIn?: number;
}

function explain(error: unknown): string {
  if (!(error instanceof ApiError)) return "Signing in failed; try again.";
  switch (error.code) {
    case "invalid_credentials":
      return "The username or password is wrong.";
    case "invalid_mfa_code":
      return "The code is wrong or has expired; enter the current one.";
    case "account_locked":
      return `${error.message} (account_locked)`;
    case "rate_limited":
      return "Too many attempts; wait a moment and try again.";
    default:
      return `${error.message} (${error.code})`;
  }
}

export function SignIn(props: { config: DashboardConfig; session: Session; onSignedIn: () => void; username?: string; expired?: boolean }): ReactElement {
  const { config, session } = props;
  const [username, setUsername] = useState(props.username ?? "");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);
  const ssoError = new URLSearchParams(location.search).get("sso_error");

  useEffect(() => {
    if (mfaToken !== null) codeRef.current?.focus();
  }, [mfaToken]);

  const finish = (answer: TokenAnswer): void => {
    if (answer.accessToken === undefined || answer.refreshToken === undefined || answer.expiresIn === undefined) throw new ApiError(500, "bad_answer", "The platform's answer had no tokens.");
    session.accept({ accessToken: answer.accessToken, refreshToken: answer.refreshToken, expiresIn: answer.expiresIn });
    props.onSignedIn();
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mfaToken === null) {
        const answer = await session.anonymous<TokenAnswer>("POST", "/api/v1/auth/login", { username, password });
        if (answer.mfaRequired === true && answer.mfaToken !== undefined) setMfaToken(answer.mfaToken);
        else finish(answer);
      } else {
        finish(await session.anonymous<TokenAnswer>("POST", "/api/v1/auth/mfa", { mfaToken, code: code.trim() }));
      }
    } catch (caught) {
      setError(explain(caught));
      if (caught instanceof ApiError && caught.code === "invalid_mfa_code") setCode("");
      else if (caught instanceof ApiError && (caught.code === "unauthenticated" || caught.code === "token_invalid" || caught.code === "token_expired")) setMfaToken(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="signin" onSubmit={(event) => void submit(event)} aria-labelledby="signin-title">
      <h1 id="signin-title">{props.expired === true ? "Your session has expired" : "Sign in to TradeStream"}</h1>
      {props.expired === true && <p className="muted">Sign in again to carry on; your order ticket is kept.</p>}
      {mfaToken === null ? (
        <>
          <label>
            Username
            <input name="username" autoComplete="username" value={username} onChange={(event) => setUsername(event.target.value)} required autoFocus={props.username === undefined} />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" value={password} onChange={(event) => setPassword(event.target.value)} required autoFocus={props.username !== undefined} />
          </label>
        </>
      ) : (
        <label>
          One-time code from your authenticator app (or a recovery code)
          <input ref={codeRef} name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(event) => setCode(event.target.value)} required minLength={6} maxLength={32} />
        </label>
      )}
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {ssoError !== null && error === null && (
        <p role="alert" className="error">
          Single sign-on failed ({ssoError}); try again.
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {mfaToken === null ? "Continue" : "Verify code"}
      </button>
      {config.sso && mfaToken === null && (
        <a className="button" href={`${config.apiUrl}/api/v1/auth/sso/start?client=browser`}>
          Sign in with corporate SSO
        </a>
      )}
    </form>
  );
}

/** Second-factor enrolment for a user who has none: QR code, confirm with a code, recovery codes shown once. */
export function Enrol(props: { session: Session; onDone: () => void }): ReactElement {
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUri: string; qrSvg: string } | null>(null);
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState<readonly string[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    props.session
      .post<{ secret: string; otpauthUri: string; qrSvg: string }>("/api/v1/auth/totp/enrol")
      .then(setEnrolment)
      .catch((caught: unknown) => setError(caught instanceof ApiError ? `${caught.message} (${caught.code})` : "Enrolment could not start."));
  }, [props.session]);

  const confirm = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    try {
      const answer = await props.session.post<{ recoveryCodes: string[] }>("/api/v1/auth/totp/confirm", { code: code.trim() });
      setRecovery(answer.recoveryCodes);
    } catch (caught) {
      setError(caught instanceof ApiError ? `${caught.message} (${caught.code})` : "The code could not be checked.");
    }
  };

  if (recovery !== null) {
    return (
      <section className="signin" aria-labelledby="enrol-title">
        <h1 id="enrol-title">Two-factor sign-in is on</h1>
        <p>Keep these recovery codes somewhere safe. Each works once, and they are shown only now.</p>
        <ul className="codes">
          {recovery.map((item) => (
            <li key={item}>
              <code>{item}</code>
            </li>
          ))}
        </ul>
        <button type="button" className="primary" onClick={props.onDone} autoFocus>
          Done
        </button>
      </section>
    );
  }
  return (
    <form className="signin" onSubmit={(event) => void confirm(event)} aria-labelledby="enrol-title">
      <h1 id="enrol-title">Set up two-factor sign-in</h1>
      {enrolment === null ? (
        <p>{error ?? "Preparing…"}</p>
      ) : (
        <>
          <p>Scan the code with your authenticator app, or enter the key by hand.</p>
          <img className="qr" alt="QR code for the authenticator app" src={`data:image/svg+xml;base64,${btoa(enrolment.qrSvg)}`} width={180} height={180} />
          <p>
            Key: <code>{enrolment.secret}</code>
          </p>
          <label>
            Code shown by the app
            <input inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(event) => setCode(event.target.value)} required minLength={6} maxLength={8} pattern="[0-9]+" autoFocus />
          </label>
          {error !== null && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" className="primary">
            Confirm
          </button>
        </>
      )}
      <button type="button" onClick={props.onDone}>
        Not now
      </button>
    </form>
  );
}
