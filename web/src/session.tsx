import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { ApiError, get, getToken, isMissing, onUnauthorized, post, setToken } from "./api";
import type { User } from "./types";

export interface Session {
  loading: boolean;
  user: User | null;
  /** "token": an API token from sessionStorage; "cookie": password login. */
  mode: "token" | "cookie" | null;
  needsSetup: boolean;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

async function whoAmI(): Promise<{ user: User | null; mode: Session["mode"]; needsSetup: boolean }> {
  const token = getToken();
  try {
    const user = await get<User>("/users/me/", { quiet401: true });
    return { user, mode: token ? "token" : "cookie", needsSetup: false };
  } catch (error) {
    // A server without accounts has no /users/me/: a token is then taken on trust, and the
    // first API call that refuses it signs the user out.
    if (token && isMissing(error)) return { user: { name: "API token" }, mode: "token", needsSetup: false };
    if (token && error instanceof ApiError && error.status === 401) setToken(null);
    else if (token) throw error;
  }
  let needsSetup = false;
  try {
    needsSetup = (await get<{ needsSetup: boolean }>("/auth/setup/", { quiet401: true })).needsSetup === true;
  } catch {
    needsSetup = false;
  }
  return { user: null, mode: null, needsSetup };
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Omit<Session, "refresh" | "signOut">>({
    loading: true,
    user: null,
    mode: null,
    needsSetup: false,
  });

  const refresh = useCallback(async () => {
    try {
      const who = await whoAmI();
      setState({ loading: false, ...who });
    } catch {
      setState({ loading: false, user: null, mode: null, needsSetup: false });
    }
  }, []);

  const signOut = useCallback(async () => {
    if (getToken()) {
      setToken(null);
    } else {
      try {
        await post("/auth/logout/", {}, { quiet401: true });
      } catch {
        // Signed out already, or no such endpoint: either way the session is gone for us.
      }
    }
    setState({ loading: false, user: null, mode: null, needsSetup: false });
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(
    () =>
      onUnauthorized(() => {
        setToken(null);
        setState({ loading: false, user: null, mode: null, needsSetup: false });
      }),
    [],
  );

  return <SessionContext.Provider value={{ ...state, refresh, signOut }}>{children}</SessionContext.Provider>;
}
