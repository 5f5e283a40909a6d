// The one place that talks to /api/0/. Two ways to authenticate, as the server accepts them:
// the session cookie set by password login (writes then carry the CSRF cookie's value as a
// header), or an API token kept in sessionStorage and sent as a bearer token.

const TOKEN_KEY = "rookery.apiToken";

export class ApiError extends Error {
  constructor(
    public status: number,
    public detail: string,
  ) {
    super(detail || `HTTP ${status}`);
  }
}

export interface ApiResult<T> {
  data: T;
  headers: Headers;
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function cookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();
/** Called when an authenticated call answers 401: the session ended or the token was revoked. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function request<T>(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  options: { quiet401?: boolean } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (method !== "GET") {
    const csrf = cookie("rookery_csrf");
    if (csrf) headers["X-CSRFToken"] = csrf;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/0${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const detail =
      data && typeof data === "object" && "detail" in data && typeof (data as { detail: unknown }).detail === "string"
        ? (data as { detail: string }).detail
        : response.statusText;
    if (response.status === 401 && !options.quiet401) unauthorizedListeners.forEach((listener) => listener());
    throw new ApiError(response.status, detail);
  }
  return { data: data as T, headers: response.headers };
}

export const get = <T>(path: string, options?: { quiet401?: boolean }) =>
  request<T>("GET", path, undefined, options).then((r) => r.data);
export const put = <T>(path: string, body: unknown) => request<T>("PUT", path, body).then((r) => r.data);
export const post = <T>(path: string, body: unknown, options?: { quiet401?: boolean }) =>
  request<T>("POST", path, body, options).then((r) => r.data);
export const del = (path: string) => request<unknown>("DELETE", path).then(() => undefined);

/** True when the server does not have this endpoint (yet): the UI then hides what needs it. */
export const isMissing = (error: unknown) =>
  error instanceof ApiError && (error.status === 404 || error.status === 405 || error.status === 501);

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.detail} (${error.status})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The cursor of Sentry's `Link` header for one direction, when that page has results. */
export function linkCursor(headers: Headers, rel: "next" | "previous"): string | null {
  const link = headers.get("Link");
  if (!link) return null;
  for (const part of link.split(",")) {
    if (!new RegExp(`rel="${rel}"`).test(part)) continue;
    if (/results="false"/.test(part)) return null;
    const cursor = /cursor="([^"]*)"/.exec(part);
    return cursor ? cursor[1] : null;
  }
  return null;
}

export const enc = encodeURIComponent;
