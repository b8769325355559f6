// The runner on OCI Compute: a VCN with a private subnet (prohibitPublicIpOnVnic), a service gateway
// to all services in the Oracle Services Network (same region only), a NAT gateway only when an
// endpoint outside OCI-in-this-region must be reached; Oracle Linux 9 without a public IP; an
// instance principal (dynamic group matching exactly this instance) for artifacts, Vault secrets,
// metrics and logs; a dedicated OCI user whose Customer Secret Key (kept in OCI Vault) reaches the
// exact buckets through the S3-compatible endpoint; OCI Logging and Monitoring alarms.
import * as pulumi from "@pulumi/pulumi";
import * as oci from "@pulumi/oci";
import type { BucketSpec } from "../plan/types.js";
import { METRIC_NAMESPACE, paths, renderBootstrap } from "./bootstrap.js";
import {
  awsRunnerUser,
  configJson,
  dnsName,
  endpointPorts,
  keyPayloads,
  ociBucketsFor,
  ociRunnerUser,
  ociTenancy,
  sha256,
  STATE_PREFIX,
  subnetCidrs,
  type Core,
} from "./core.js";
import { alicloudRunnerUser, linodeRunnerKey } from "./static-keys.js";
import type { RunnerDeployment } from "./index.js";
import { outsideEndpoints } from "./runner-config.js";

/** How long an OCI absence alarm keeps reporting a silent stream before Monitoring forgets it and
 *  resets the alarm (the absence detection period; the default is 2 h, the maximum 3 days). Absence
 *  itself is detected over the query interval ([5m]); this window only decides how long a dead runner
 *  keeps the alarm firing, so it is the maximum. */
export const OCI_ABSENCE_WINDOW = "72h";

/** OCI Logging retention: 30-day steps, 30..180. */
export function ociRetentionDays(days: number): number {
  return Math.min(180, Math.max(30, Math.ceil(days / 30) * 30));
}

export function deployOciRunner(core: Core): RunnerDeployment {
  const { spec, name: n, ctx } = core;
  const region = spec.region;
  const o = core.opts;
  const compartmentId = spec.compartmentId;
  if (!compartmentId) {
    throw new pulumi.ResourceError("runner.compartmentId is required for platform oci-compute (the compartment for the runner's VCN, VM, bucket and logs)", ctx.parent);
  }
  const tenancyId = ociTenancy(core);
  const firstOci = Object.values(ctx.args.buckets).find((b) => b.provider === "oci");
  const namespace: pulumi.Output<string> = firstOci?.provider === "oci"
    ? pulumi.output(firstOci.namespace)
    : oci.objectstorage.getNamespaceOutput({ compartmentId }, { parent: ctx.parent }).namespace;
  const stateSpec = (bucket: string, ns: string): BucketSpec => ({ provider: "oci", bucket, region, namespace: ns, compartmentId });
  const artifactsName = dnsName(`${n}-artifacts`);
  const placeholderNs = firstOci?.provider === "oci" ? firstOci.namespace : "namespace";

  // ---- artifacts bucket: bundle, config, runner state
  const artifacts = new oci.objectstorage.Bucket(`${n}-artifacts`, {
    compartmentId,
    namespace,
    name: artifactsName,
    accessType: "NoPublicAccess",
    freeformTags: { "bucket-replication": ctx.name },
  }, o);

  const structural = core.configFor(stateSpec(artifactsName, placeholderNs));
  const needsNat = outsideEndpoints("oci-compute", region, structural.config).length > 0;
  const extraPorts = endpointPorts(structural.config);

  // ---- static keys: the runner's OCI user (S3-compatible endpoint, state included), AWS and s3 keys
  const stateAccess = { read: new Set([STATE_PREFIX]), write: new Set([STATE_PREFIX]), delete: new Set([STATE_PREFIX]) };
  const entries = core.keyEntries(stateSpec(artifactsName, placeholderNs));
  const payloads = keyPayloads(core, entries, {
    alicloud: () => alicloudRunnerUser(core),
    linode: () => linodeRunnerKey(core),
    oci: () => ociRunnerUser(core, tenancyId, [...ociBucketsFor(core), { bucket: artifactsName, compartmentId, access: stateAccess }]).payload,
    aws: () => awsRunnerUser(core),
  });

  let vaultId: pulumi.Input<string>;
  let keyId: pulumi.Input<string>;
  if (spec.vaultId && spec.vaultKeyId) {
    vaultId = spec.vaultId;
    keyId = spec.vaultKeyId;
  } else {
    const vault = new oci.kms.Vault(`${n}-vault`, { compartmentId, displayName: `${n}`, vaultType: "DEFAULT" }, o);
    const key = new oci.kms.Key(`${n}-vault-key`, {
      compartmentId,
      displayName: `${n}`,
      keyShape: { algorithm: "AES", length: 32 },
      managementEndpoint: vault.managementEndpoint,
    }, o);
    vaultId = vault.id;
    keyId = key.id;
  }
  // One secret per key (entries sharing a key, e.g. two OCI regions of one tenancy, share it).
  const secrets: Record<string, oci.vault.Secret> = {};
  const bySource = new Map<pulumi.Output<string>, oci.vault.Secret>();
  for (const [entry, payload] of Object.entries(payloads)) {
    let secret = bySource.get(payload);
    if (!secret) {
      secret = new oci.vault.Secret(`${n}-key-${entry}`, {
        compartmentId,
        vaultId,
        keyId,
        secretName: dnsName(`${n}-${entry}`, 100),
        description: `bucket-replication runner (${ctx.name}): S3 keys for endpoint ${entry}`,
        secretContent: { contentType: "BASE64", content: pulumi.secret(payload.apply((p) => Buffer.from(p).toString("base64"))) },
      }, o);
      bySource.set(payload, secret);
    }
    secrets[entry] = secret;
  }
  const uniqueSecrets = [...bySource.values()];

  // ---- network
  let subnetId: pulumi.Input<string>;
  let vcnId: pulumi.Input<string>;
  // Egress the runner's VNIC needs, as network security group rules (attached on both paths; on an
  // existing subnet they are the only rules the component controls).
  const nsgEgress: { destination: pulumi.Input<string>; destinationType: string; port: number; what: string; key: string }[] = [];
  const network = spec.network;
  if (network && "subnetIds" in network) {
    if (!network.subnetIds.length) throw new pulumi.ResourceError("runner.network.subnetIds must list at least one private subnet", ctx.parent);
    subnetId = network.subnetIds[0];
    vcnId = oci.core.getSubnetOutput({ subnetId: network.subnetIds[0] }, { parent: ctx.parent }).vcnId;
    // Routing is the subnet owner's (service gateway and/or NAT): allow the ports to any address.
    for (const port of [443, ...extraPorts]) {
      nsgEgress.push({ destination: "0.0.0.0/0", destinationType: "CIDR_BLOCK", port, what: port === 443 ? "HTTPS to object storage and OCI services" : `endpoint port ${port}`, key: `any-${port}` });
    }
  } else {
    const cidr = network?.cidr ?? "10.43.0.0/16";
    let blocks: { public: string; private: string };
    try {
      blocks = subnetCidrs(cidr);
    } catch (e) {
      throw new pulumi.ResourceError((e as Error).message, ctx.parent);
    }
    const vcn = new oci.core.Vcn(`${n}-vcn`, { compartmentId, cidrBlocks: [cidr], displayName: n }, o);
    vcnId = vcn.id;
    const services = oci.core.getServicesOutput({
      filters: [{ name: "name", values: ["All .* Services In Oracle Services Network"], regex: true }],
    }, { parent: ctx.parent });
    const service = services.services[0];
    const sgw = new oci.core.ServiceGateway(`${n}-sgw`, {
      compartmentId,
      vcnId: vcn.id,
      services: [{ serviceId: service.id }],
      displayName: `${n}-sgw`,
    }, o);
    const routeRules: oci.types.input.Core.RouteTableRouteRule[] = [
      { destination: service.cidrBlock, destinationType: "SERVICE_CIDR_BLOCK", networkEntityId: sgw.id, description: "Oracle Services Network (same region)" },
    ];
    if (needsNat) {
      const nat = new oci.core.NatGateway(`${n}-nat`, { compartmentId, vcnId: vcn.id, displayName: `${n}-nat` }, o);
      routeRules.push({ destination: "0.0.0.0/0", destinationType: "CIDR_BLOCK", networkEntityId: nat.id, description: "endpoints outside this region's OCI services" });
    }
    const rt = new oci.core.RouteTable(`${n}-private-rt`, { compartmentId, vcnId: vcn.id, displayName: `${n}-private`, routeRules }, o);
    const egress: oci.types.input.Core.SecurityListEgressSecurityRule[] = [
      { destination: service.cidrBlock, destinationType: "SERVICE_CIDR_BLOCK", protocol: "6", tcpOptions: { min: 443, max: 443 }, description: "HTTPS to OCI services" },
    ];
    nsgEgress.push({ destination: service.cidrBlock, destinationType: "SERVICE_CIDR_BLOCK", port: 443, what: "HTTPS to OCI services", key: "osn-443" });
    if (needsNat) {
      for (const port of [443, ...extraPorts]) {
        egress.push({ destination: "0.0.0.0/0", destinationType: "CIDR_BLOCK", protocol: "6", tcpOptions: { min: port, max: port }, description: `HTTPS/endpoint port ${port}` });
        nsgEgress.push({ destination: "0.0.0.0/0", destinationType: "CIDR_BLOCK", port, what: `HTTPS/endpoint port ${port}`, key: `any-${port}` });
      }
    }
    const sl = new oci.core.SecurityList(`${n}-private-sl`, {
      compartmentId,
      vcnId: vcn.id,
      displayName: `${n}-private`,
      egressSecurityRules: egress,
      ingressSecurityRules: [],
    }, o);
    const subnet = new oci.core.Subnet(`${n}-private`, {
      compartmentId,
      vcnId: vcn.id,
      cidrBlock: blocks.private,
      displayName: `${n}-private`,
      prohibitPublicIpOnVnic: true,
      prohibitInternetIngress: true,
      routeTableId: rt.id,
      securityListIds: [sl.id],
    }, o);
    subnetId = subnet.id;
  }
  // No ingress rule at all; egress only to the ports above. (OCI allows a packet if any rule of the
  // subnet's security lists or of the VNIC's NSGs allows it: on an existing subnet, the NSG adds what
  // the runner needs but cannot take away what the subnet's own security lists already allow.)
  const nsg = new oci.core.NetworkSecurityGroup(`${n}-nsg`, { compartmentId, vcnId, displayName: `${n}`, freeformTags: { "bucket-replication": ctx.name } }, o);
  const nsgRules = nsgEgress.map(
    (r) =>
      new oci.core.NetworkSecurityGroupSecurityRule(`${n}-nsg-${r.key}`, {
        networkSecurityGroupId: nsg.id,
        direction: "EGRESS",
        protocol: "6",
        destination: r.destination,
        destinationType: r.destinationType,
        stateless: false,
        tcpOptions: { destinationPortRange: { min: r.port, max: r.port } },
        description: r.what,
      }, o),
  );

  // ---- bundle + config objects
  const bundleKey = `runner/${core.bundle.sha256}/runner.mjs`;
  const bundleObject = new oci.objectstorage.StorageObject(`${n}-bundle`, {
    bucket: artifacts.name,
    namespace,
    object: bundleKey,
    source: core.bundle.path,
    contentType: "text/javascript",
  }, o);
  const config = namespace.apply((ns) => configJson(core.configFor(stateSpec(artifactsName, ns)).config));
  const configSha = config.apply(sha256);
  const configObject = new oci.objectstorage.StorageObject(`${n}-config`, {
    bucket: artifacts.name,
    namespace,
    object: configSha.apply((s) => `config/${s}.json`),
    content: config,
    contentType: "application/json",
  }, o);

  // ---- instance
  const shape = spec.shape ?? "VM.Standard.E5.Flex";
  const image = oci.core.getImagesOutput({
    compartmentId,
    operatingSystem: "Oracle Linux",
    operatingSystemVersion: "9",
    shape,
    sortBy: "TIMECREATED",
    sortOrder: "DESC",
  }, { parent: ctx.parent }).images[0].id;
  const ad = oci.identity.getAvailabilityDomainsOutput({ compartmentId: tenancyId }, { parent: ctx.parent }).availabilityDomains[0].name;
  const userData = pulumi
    .all([namespace, configSha, pulumi.all(Object.fromEntries(Object.entries(secrets).map(([k, s]) => [k, s.id])))])
    .apply(([ns, cSha, refs]) =>
      renderBootstrap({
        platform: "oci-compute",
        name: ctx.name,
        schedule: core.schedule,
        shards: spec.shards,
        region,
        artifactsBucket: artifactsName,
        namespace: ns,
        compartmentId,
        bundle: { key: bundleKey, sha256: core.bundle.sha256 },
        config: { key: `config/${cSha}.json`, sha256: cSha },
        secrets: refs as Record<string, string>,
      }).userData,
    );
  const instance = new oci.core.Instance(`${n}-instance`, {
    availabilityDomain: ad,
    compartmentId,
    displayName: n,
    shape,
    shapeConfig: shape.endsWith(".Flex") ? { ocpus: spec.ocpus ?? 1, memoryInGbs: spec.memoryInGbs ?? 8 } : undefined,
    sourceDetails: { sourceType: "image", sourceId: image, bootVolumeSizeInGbs: "50" },
    createVnicDetails: { subnetId, assignPublicIp: "false", displayName: `${n}-vnic`, nsgIds: [nsg.id] },
    metadata: { user_data: userData.apply((u) => Buffer.from(u).toString("base64")) },
    instanceOptions: { areLegacyImdsEndpointsDisabled: true },
    isPvEncryptionInTransitEnabled: true,
    agentConfig: {
      isMonitoringDisabled: false,
      isManagementDisabled: false,
      pluginsConfigs: [{ name: "Custom Logs Monitoring", desiredState: "ENABLED" }],
    },
    freeformTags: { "bucket-replication": ctx.name },
  }, {
    ...o,
    // OCI updates metadata in place, but user data only runs at first boot: a new bundle or config
    // must replace the VM. Delete first, so two runners never overlap.
    replaceOnChanges: ["metadata"],
    deleteBeforeReplace: true,
    dependsOn: [bundleObject, configObject, ...nsgRules],
  });

  // ---- instance principal: exactly this instance
  const dg = new oci.identity.DynamicGroup(`${n}-dg`, {
    compartmentId: tenancyId,
    name: dnsName(`${n}`),
    description: `bucket-replication runner (${ctx.name}): the runner VM`,
    matchingRule: instance.id.apply((id) => `ALL {instance.id = '${id}'}`),
  }, o);
  new oci.identity.Policy(`${n}-dg-policy`, {
    compartmentId: tenancyId,
    name: dnsName(`${n}-instance`),
    description: `bucket-replication runner (${ctx.name}): artifacts, its own secrets, metrics and logs`,
    statements: pulumi.all([dg.id, pulumi.all(uniqueSecrets.map((s) => s.id))]).apply(([dgId, secretIds]) => [
      `Allow dynamic-group id ${dgId} to read objects in compartment id ${compartmentId} where all {target.bucket.name = '${artifactsName}', any {request.permission = 'OBJECT_READ', request.permission = 'OBJECT_INSPECT'}}`,
      ...secretIds.map((id) => `Allow dynamic-group id ${dgId} to read secret-bundles in compartment id ${compartmentId} where target.secret.id = '${id}'`),
      `Allow dynamic-group id ${dgId} to use metrics in compartment id ${compartmentId} where target.metrics.namespace = '${METRIC_NAMESPACE}'`,
      `Allow dynamic-group id ${dgId} to use log-content in compartment id ${compartmentId}`,
    ]),
  }, o);

  // ---- logs
  const logGroup = new oci.logging.LogGroup(`${n}-logs`, { compartmentId, displayName: dnsName(`${n}-logs`) }, o);
  const log = new oci.logging.Log(`${n}-log`, {
    logGroupId: logGroup.id,
    displayName: dnsName(`${n}-runner`),
    logType: "CUSTOM",
    retentionDuration: ociRetentionDays(spec.logRetentionDays ?? 30),
    isEnabled: true,
  }, o);
  new oci.logging.UnifiedAgentConfiguration(`${n}-agent`, {
    compartmentId,
    displayName: dnsName(`${n}-agent`),
    description: `bucket-replication runner (${ctx.name}): ship ${paths().logFile} and ${paths().bootstrapLog}`,
    isEnabled: true,
    serviceConfiguration: {
      configurationType: "LOGGING",
      sources: [{ sourceType: "LOG_TAIL", name: "runner", paths: [paths().logFile, paths().bootstrapLog], parser: { parserType: "NONE" } }],
      destination: { logObjectId: log.id },
    },
    groupAssociation: { groupLists: [dg.id] },
  }, o);

  // ---- alarms
  const topic = spec.alarmTopic
    ? pulumi.output(spec.alarmTopic)
    : new oci.ons.NotificationTopic(`${n}-alarms`, { compartmentId, name: dnsName(`${n}-alarms`), description: `bucket-replication runner (${ctx.name}) alarms` }, o).topicId;
  const dim = `{topology = "${ctx.name}"}`;
  const staleMinutes = Math.ceil((3 * core.gaps.longest) / 60);
  const alarm = (suffix: string, query: string, summary: string, severity: string) =>
    new oci.monitoring.Alarm(`${n}-${suffix}`, {
      compartmentId,
      metricCompartmentId: compartmentId,
      namespace: METRIC_NAMESPACE,
      displayName: `${n}-${suffix}`,
      query,
      severity,
      body: summary,
      alarmSummary: summary,
      destinations: [topic],
      isEnabled: true,
      pendingDuration: "PT1M",
      repeatNotificationDuration: "PT4H",
    }, o);
  alarm("failed", `run_failed[5m]${dim}.sum() > 0`, `bucket-replication runner (${ctx.name}): a run failed`, "CRITICAL");
  alarm(
    "stale",
    `minutes_since_success[5m]${dim}.max() > ${staleMinutes}`,
    `bucket-replication runner (${ctx.name}): no successful run within 3 schedule periods (${staleMinutes} min, schedule "${core.schedule}")`,
    "CRITICAL",
  );
  // The heartbeat starts as soon as the bootstrap has the OCI CLI (before the artifacts are fetched),
  // so this stream exists even when the bootstrap never completes; absence is detected over [5m] and
  // keeps firing for OCI_ABSENCE_WINDOW.
  alarm(
    "silent",
    `minutes_since_success[5m]${dim}.groupBy(topology).absent(${OCI_ABSENCE_WINDOW})`,
    `bucket-replication runner (${ctx.name}): the runner VM stopped reporting (no heartbeat for 5 minutes)`,
    "CRITICAL",
  );

  return { instanceId: instance.id, logGroup: log.id, edges: core.edges, natGateway: needsNat };
}
