// Credential resolution, per endpoint, at run time. Errors name the endpoint and never a secret.
import { readFileSync } from "node:fs";
import type { SwiftAuthConfig } from "../store/swift-auth.js";
import type { CredentialsConfig, SwiftEndpointConfig } from "./types.js";

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

/**
 * A Swift endpoint's auth settings with its secrets resolved: inline fields, or `credentials`
 * {env: PREFIX} (v1: PREFIX_USER, PREFIX_KEY; v3: PREFIX_USERNAME unless `username` is set and
 * PREFIX_PASSWORD, or PREFIX_APPLICATION_CREDENTIAL_ID / PREFIX_APPLICATION_CREDENTIAL_SECRET) or
 * {file: path} (JSON with the inline field names). Errors name the endpoint and never a secret.
 * Pass the result's secrets (secretsOfSwiftAuth in runner/store/swift-auth.ts) to the output scrubber.
 */
export function resolveSwiftAuth(endpoint: string, c: SwiftEndpointConfig, env: NodeJS.ProcessEnv = process.env): SwiftAuthConfig {
  let src: Record<string, unknown> = {};
  let where = "";
  const cr = c.credentials;
  if (cr && "env" in cr) {
    const p = cr.env;
    src = {
      user: env[`${p}_USER`],
      key: env[`${p}_KEY`],
      username: env[`${p}_USERNAME`],
      password: env[`${p}_PASSWORD`],
      projectName: env[`${p}_PROJECT_NAME`],
      applicationCredentialId: env[`${p}_APPLICATION_CREDENTIAL_ID`],
      applicationCredentialSecret: env[`${p}_APPLICATION_CREDENTIAL_SECRET`],
    };
    where = `environment variable ${p}_`;
  } else if (cr && "file" in cr) {
    let text: string;
    try {
      text = readFileSync(cr.file, "utf8");
    } catch (e) {
      throw new CredentialsError(endpoint, `cannot read credentials file ${cr.file} (${(e as NodeJS.ErrnoException).code ?? "error"}); check the path and its permissions`);
    }
    try {
      const o = JSON.parse(text);
      if (typeof o !== "object" || o === null || Array.isArray(o)) throw new Error();
      src = o;
    } catch {
      throw new CredentialsError(endpoint, `credentials file ${cr.file} is not a JSON object; it must hold ${c.authVersion === 1 ? '{"user","key"}' : '{"username","password"} or {"applicationCredentialId","applicationCredentialSecret"}'}`);
    }
    where = `credentials file ${cr.file} field `;
  }
  const pick = (k: string, inline: string | undefined): string | undefined => {
    if (inline !== undefined) return inline;
    const v = src[k];
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const need = (k: string, envName: string, inline: string | undefined): string => {
    const v = pick(k, inline);
    if (v === undefined) throw new CredentialsError(endpoint, cr && "env" in cr ? `${where}${envName} is not set; export it for the runner` : cr ? `${where}"${k}" is missing or empty` : `"${k}" is not set`);
    return v;
  };
  if (c.authVersion === 1) return { version: 1, authUrl: c.authUrl, user: need("user", "USER", c.user), key: need("key", "KEY", c.key) };
  const base = { version: 3 as const, authUrl: c.authUrl, ...(c.region !== undefined ? { region: c.region } : {}), ...(c.interface !== undefined ? { interface: c.interface } : {}) };
  const appId = pick("applicationCredentialId", c.applicationCredentialId);
  if (appId !== undefined) return { ...base, applicationCredentialId: appId, applicationCredentialSecret: need("applicationCredentialSecret", "APPLICATION_CREDENTIAL_SECRET", c.applicationCredentialSecret) };
  return {
    ...base,
    username: need("username", "USERNAME", c.username),
    password: need("password", "PASSWORD", c.password),
    userDomainName: c.userDomainName ?? "Default",
    projectName: need("projectName", "PROJECT_NAME", c.projectName),
    projectDomainName: c.projectDomainName ?? "Default",
  };
}
