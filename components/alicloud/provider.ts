// One Alibaba Cloud provider per region. OSS resources are placed in the provider's region (the
// bucket's endpoint), so a bucket or replication rule in another region needs its own provider.
import * as pulumi from "@pulumi/pulumi";
import * as alicloud from "@pulumi/alicloud";
import type { AlicloudBucketSpec } from "../plan/types.js";
import type { TopologyContext } from "../context.js";

/** Stack config keys of the `alicloud` namespace copied onto a per-region provider. */
const PLAIN_KEYS = ["profile", "sharedCredentialsFile", "accountId", "ecsRoleName"] as const;
const SECRET_KEYS = ["accessKey", "secretKey", "securityToken"] as const;

const cache = new WeakMap<pulumi.ComponentResource, Map<string, alicloud.Provider>>();

/**
 * The provider for resources of `spec`'s region: the spec's own, else the stack's default
 * (undefined) when `alicloud:region` is unset or equals the region, else one provider per region and
 * topology with the stack's `alicloud:` credentials (secrets stay secrets).
 */
export function alicloudProviderFor(ctx: TopologyContext, spec: AlicloudBucketSpec): pulumi.ProviderResource | undefined {
  if (spec.pulumiProvider) return spec.pulumiProvider;
  const cfg = new pulumi.Config("alicloud");
  const defaultRegion = cfg.get("region");
  if (!defaultRegion || defaultRegion === spec.region) return undefined;
  let perRegion = cache.get(ctx.parent);
  if (!perRegion) cache.set(ctx.parent, (perRegion = new Map()));
  let p = perRegion.get(spec.region);
  if (!p) {
    const args: alicloud.ProviderArgs = { region: spec.region };
    for (const k of PLAIN_KEYS) {
      const v = cfg.get(k);
      if (v !== undefined) (args as Record<string, unknown>)[k] = v;
    }
    for (const k of SECRET_KEYS) {
      const v = cfg.getSecret(k);
      if (v !== undefined) (args as Record<string, unknown>)[k] = v;
    }
    p = new alicloud.Provider(`${ctx.name}-alicloud-${spec.region}`, args, { parent: ctx.parent });
    perRegion.set(spec.region, p);
  }
  return p;
}
