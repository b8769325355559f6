// Credential resolution, per endpoint, at run time. Errors name the endpoint and never a secret.
import { readFileSync } from "node:fs";
import type { CredentialsConfig } from "./types.js";

export interface ResolvedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export class CredentialsError extends Error {
  readonly endpoint: string;
  constructor(endpoint: string, message: string) {
    super(`endpoints.${endpoint}.credentials: ${message}`);
    this.name = "CredentialsError";
    this.endpoint = endpoint;
  }
}

/** Inline, `{env}` or `{file}` credentials → keys; undefined → the SDK's default chain. */
export function resolveCredentials(endpoint: string, c: CredentialsConfig | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedCredentials | undefined {
  if (!c) return undefined;
  if ("env" in c) {
    const id = env[`${c.env}_ACCESS_KEY_ID`];
    const secret = env[`${c.env}_SECRET_ACCESS_KEY`];
    const token = env[`${c.env}_SESSION_TOKEN`];
    const missing = [!id && `${c.env}_ACCESS_KEY_ID`, !secret && `${c.env}_SECRET_ACCESS_KEY`].filter(Boolean);
    if (missing.length) throw new CredentialsError(endpoint, `environment variable ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set; export ${missing.length > 1 ? "them" : "it"} for the runner`);
    return { accessKeyId: id!, secretAccessKey: secret!, ...(token ? { sessionToken: token } : {}) };
  }
  if ("file" in c) {
    let text: string;
    try {
      text = readFileSync(c.file, "utf8");
    } catch (e) {
      throw new CredentialsError(endpoint, `cannot read credentials file ${c.file} (${(e as NodeJS.ErrnoException).code ?? "error"}); check the path and its permissions`);
    }
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      throw new CredentialsError(endpoint, `credentials file ${c.file} is not valid JSON; it must hold {"accessKeyId","secretAccessKey"}`);
    }
    const r = o as Record<string, unknown>;
    if (typeof r !== "object" || r === null || typeof r.accessKeyId !== "string" || typeof r.secretAccessKey !== "string" || !r.accessKeyId || !r.secretAccessKey) {
      throw new CredentialsError(endpoint, `credentials file ${c.file} must hold {"accessKeyId","secretAccessKey"} as non-empty strings`);
    }
    return {
      accessKeyId: r.accessKeyId,
      secretAccessKey: r.secretAccessKey,
      ...(typeof r.sessionToken === "string" ? { sessionToken: r.sessionToken } : {}),
    };
  }
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
}

/** Every secret value we know of, to scrub from any message before it is printed. */
export function secretsOf(c: ResolvedCredentials | undefined): string[] {
  if (!c) return [];
  return [c.accessKeyId, c.secretAccessKey, c.sessionToken ?? ""].filter((s) => s.length >= 4);
}
