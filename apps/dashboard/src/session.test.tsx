// @vitest-environment jsdom
/** The session: an expired access token is refreshed once and the call retried; a refused refresh marks the session expired (the app then asks for the password in place). */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, Session } from "./api.ts";

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe("session", () => {
  it("refreshes an expired token once for concurrent calls and retries them", async () => {
    let refreshes = 0;
    const fetchMock = vi.fn((url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>).authorization;
      if (url.endsWith("/auth/refresh")) {
        refreshes += 1;
        return Promise.resolve(json(200, { accessToken: "new", refreshToken: "r2", expiresIn: 900 }));
      }
      if (auth === "Bearer old") return Promise.resolve(json(401, { error: { code: "token_expired", message: "expired" } }));
      return Promise.resolve(json(200, { ok: true }));
    });
    vi.stubGlobal("fetch", fetchMock);
    const session = new Session("");
    session.accept({ accessToken: "old", refreshToken: "r1", expiresIn: 900 });
    const answers = await Promise.all([session.get<{ ok: boolean }>("/api/v1/a"), session.get<{ ok: boolean }>("/api/v1/b")]);
    expect(answers).toEqual([{ ok: true }, { ok: true }]);
    expect(refreshes).toBe(1);
    expect(session.state).toBe("active");
    expect(JSON.parse(sessionStorage.getItem("tradestream.session") ?? "{}")).toMatchObject({ accessToken: "new", refreshToken: "r2" });
  });

  it("marks the session expired when the refresh is refused, and keeps listeners informed", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string) => Promise.resolve(url.endsWith("/auth/refresh") ? json(401, { error: { code: "refresh_token_reused", message: "reused" } }) : json(401, { error: { code: "token_expired", message: "expired" } }))),
    );
    const session = new Session("");
    session.accept({ accessToken: "old", refreshToken: "r1", expiresIn: 900 });
    const states: string[] = [];
    session.subscribe(() => states.push(session.state));
    await expect(session.get("/api/v1/orders")).rejects.toBeInstanceOf(ApiError);
    expect(session.state).toBe("expired");
    expect(states).toContain("expired");
    expect(sessionStorage.getItem("tradestream.session")).toBeNull();
  });

  it("reports an unreachable platform as a network error, keeping the session", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    const session = new Session("");
    session.accept({ accessToken: "a", refreshToken: "r", expiresIn: 900 });
    await expect(session.get("/api/v1/markets")).rejects.toMatchObject({ code: "network_error" });
    expect(session.state).toBe("active");
  });
});
