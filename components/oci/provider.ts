// One OCI provider per region. OCI resources have no per-resource region (unlike @pulumi/aws v7),
// so a bucket or replication policy in another region needs a provider configured for it.
import * as pulumi from "@pulumi/pulumi";
import * as oci from "@pulumi/oci";
import type { OciBucketSpec } from "../plan/types.js";
import type { TopologyContext } from "../context.js";

/** Stack config keys of the `oci` namespace copied onto a per-region provider. */
const AUTH_KEYS = ["auth", "tenancyOcid", "userOcid", "fingerprint", "privateKeyPath", "configFileProfile"] as const;

const cache = new WeakMap<pulumi.ComponentResource, Map<string, oci.Provider>>();

/**
 * The provider to place resources of `spec`'s region with: the spec's own, else the stack's default
 * (undefined) when `oci:region` is unset or equals the region, else a provider for that region
 * (one per region and topology) with the stack's `oci:` credentials.
 */
export function ociProviderFor(ctx: TopologyContext, spec: OciBucketSpec): pulumi.ProviderResource | undefined {
  if (spec.pulumiProvider) return spec.pulumiProvider;
  const cfg = new pulumi.Config("oci");
  const defaultRegion = cfg.get("region");
  if (!defaultRegion || defaultRegion === spec.region) return undefined;
  let perRegion = cache.get(ctx.parent);
  if (!perRegion) cache.set(ctx.parent, (perRegion = new Map()));
  let p = perRegion.get(spec.region);
  if (!p) {
    const args: oci.ProviderArgs = { region: spec.region };
    for (const k of AUTH_KEYS) {
      const v = cfg.get(k);
      if (v !== undefined) (args as Record<string, unknown>)[k] = v;
    }
    const privateKey = cfg.getSecret("privateKey");
    if (privateKey) args.privateKey = privateKey;
    p = new oci.Provider(`${ctx.name}-oci-${spec.region}`, args, { parent: ctx.parent });
    perRegion.set(spec.region, p);
  }
  return p;
}
