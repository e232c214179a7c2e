// Who is signed in, and the timer that refreshes the access token before it expires.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "../api/client";
import type { TokenPair, User } from "../api/types";
import {
  getSession,
  refreshDelay,
  refreshSession,
  reloadSession,
  sessionFromTokens,
  setSession,
  signOut,
  subscribe,
  type Session,
} from "./session";

/** After a failed refresh (network down), try again this soon rather than waiting for the next request. */
const REFRESH_RETRY_MS = 15_000;

interface AuthValue {
  user: User | null;
  session: Session | null;
  isStaff: boolean;
  login: (email: string, password: string) => Promise<User>;
  register: (email: string, password: string, name: string) => Promise<User>;
  /** Signs out here at once and revokes the sign-in on the server (best effort). */
  logout: () => void;
  /** Why the signed-in user's account could not be loaded (identity down), with a way to try again. */
  accountError: Error | null;
  retryAccount: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setLocal] = useState<Session | null>(getSession);
  const [accountError, setAccountError] = useState<Error | null>(null);
  const [accountAttempt, setAccountAttempt] = useState(0);

  useEffect(() => subscribe(setLocal), []);

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === null || event.key === "shop.session") reloadSession();
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);

  // Keep the access token fresh while the app is open, so a long checkout never fails on an expired token.
  useEffect(() => {
    if (!session?.refresh) return;
    let timer: ReturnType<typeof setTimeout>;
    const schedule = (delay: number) => {
      timer = setTimeout(() => {
        refreshSession().catch(() => schedule(REFRESH_RETRY_MS));
      }, delay);
    };
    schedule(refreshDelay(session));
    return () => clearTimeout(timer);
  }, [session]);

  // A session restored from storage without a user (older tab, interrupted login) fetches it once.
  useEffect(() => {
    if (session && !session.user) {
      setAccountError(null);
      api
        .get<User>("/api/v1/auth/me")
        .then((user) => {
          const latest = getSession();
          if (latest) setSession({ ...latest, user });
        })
        .catch((error: Error) => setAccountError(error));
    }
  }, [session, accountAttempt]);

  const retryAccount = useCallback(() => setAccountAttempt((n) => n + 1), []);

  const login = useCallback(async (email: string, password: string) => {
    const tokens = await api.post<TokenPair>("/api/v1/auth/token", { email, password }, { auth: false });
    const fresh = sessionFromTokens(tokens);
    const user = await api.get<User>("/api/v1/auth/me", {
      auth: false,
      headers: { Authorization: `Bearer ${fresh.access}` },
    });
    setSession({ ...fresh, user });
    return user;
  }, []);

  const register = useCallback(
    async (email: string, password: string, name: string) => {
      await api.post("/api/v1/auth/register", { email, password, name }, { auth: false });
      return login(email, password);
    },
    [login],
  );

  const logout = useCallback(() => void signOut(), []);

  const value = useMemo<AuthValue>(
    () => ({
      user: session?.user ?? null,
      session,
      isStaff: session?.user?.role === "staff",
      login,
      register,
      logout,
      accountError,
      retryAccount,
    }),
    [session, login, register, logout, accountError, retryAccount],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth must be used inside <AuthProvider>");
  return value;
}
