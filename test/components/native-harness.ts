// Pulumi mocks for the native-replication tests: records every resource's type, name, inputs and
// dependsOn (through a transformation on the parent, which the children inherit), and answers
// getCallerIdentity. Import this module, then `await import` the components.
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "111111111111";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** Names of the resources in opts.dependsOn. */
  dependsOn: string[];
  /** Name of the explicit provider, if any. */
  provider?: string;
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs?: string[];
}

const registered: { type: string; name: string; inputs: Record<string, any> }[] = [];
/** Options per `${type}::${name}` (resources of different types may share a name). */
const optsByName = new Map<string, pulumi.ResourceOptions>();
const names = new Map<pulumi.Resource, string>();

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, any> = { ...args.inputs };
      if (args.type === "aws:iam/role:Role") state.arn = `arn:aws:iam::${ACCOUNT}:role/${args.name}`;
      if (args.type === "aws:s3/bucket:Bucket") state.arn = `arn:aws:s3:::${args.inputs.bucket}`;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
        return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "AIDTEST", id: ACCOUNT };
      }
      return {};
    },
  },
  "bucket-replication",
  "test",
  false,
);

const capture: pulumi.ResourceTransformation = (a) => {
  names.set(a.resource, a.name);
  optsByName.set(`${a.type}::${a.name}`, a.opts);
  return undefined;
};

/** A parent for direct calls of the deploy functions; its children inherit the capture. */
export function testParent(name: string): pulumi.ComponentResource {
  return new pulumi.ComponentResource("test:index:Parent", name, {}, { transformations: [capture] });
}

/** Options for a ReplicationTopology under test. */
export const captureOpts: pulumi.ComponentResourceOptions = { transformations: [capture] };

/** Waits until no new resource has registered for a while, then returns those named `${prefix}-*`. */
export async function settle(prefix: string): Promise<Recorded[]> {
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await new Promise((r) => setTimeout(r, 20));
    if (registered.length === last) stable++;
    else {
      stable = 0;
      last = registered.length;
    }
  }
  return registered
    .filter((r) => r.name.startsWith(`${prefix}-`))
    .map((r) => {
      const o = (optsByName.get(`${r.type}::${r.name}`) ?? {}) as pulumi.CustomResourceOptions;
      const deps = (Array.isArray(o.dependsOn) ? o.dependsOn : o.dependsOn ? [o.dependsOn] : []) as pulumi.Resource[];
      return {
        ...r,
        dependsOn: deps.map((d) => names.get(d) ?? "<unknown>"),
        provider: o.provider ? names.get(o.provider) ?? "<unnamed provider>" : undefined,
        deleteBeforeReplace: o.deleteBeforeReplace,
        additionalSecretOutputs: o.additionalSecretOutputs,
      };
    });
}

export const ofType = (rs: Recorded[], type: string) => rs.filter((r) => r.type === type);
export const byName = (rs: Recorded[], name: string): Recorded => {
  const r = rs.find((x) => x.name === name);
  if (!r) throw new Error(`no resource named ${name}; have ${rs.map((x) => x.name).join(", ")}`);
  return r;
};
