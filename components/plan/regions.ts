// Known region names per provider, for `buckets.<id>.region` and `runner.region` (did-you-mean on a
// typo such as eu-fronkfurt-1). One table per provider; a new provider adds its table here and one
// line to REGIONS. Regions that opened after this list was written are accepted through the stack
// config `bucket-replication:extraRegions` (a list of names), which the plan command and the
// deployment both read (docs/topology.md).

/** AWS: the regions of the pinned @pulumi/aws `Region` enum (commercial, GovCloud, China, the
 *  European Sovereign Cloud and the ISO partitions). test/plan/regions.test.ts checks it against
 *  the enum, so a provider upgrade that adds a region fails the test until it is added here. */
export const AWS_REGIONS: readonly string[] = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2",
  "af-south-1",
  "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
  "ap-south-1", "ap-south-2",
  "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
  "ca-central-1", "ca-west-1",
  "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
  "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
  // GovCloud (US)
  "us-gov-east-1", "us-gov-west-1",
  // China (Beijing, Ningxia)
  "cn-north-1", "cn-northwest-1",
  // European Sovereign Cloud
  "eusc-de-east-1",
  // ISO partitions
  "us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "us-isob-west-1", "us-isof-east-1", "us-isof-south-1", "eu-isoe-west-1",
];

/** OCI: region identifiers of every realm, as the OCI SDKs list them (oci-python-sdk
 *  regions_definitions.py: oc1 commercial, oc2/oc3 US government, oc4 UK government, oc19 EU
 *  sovereign, and the dedicated realms), plus regions opened since (ap-batam-1, eu-turin-1,
 *  eu-madrid-3, sa-riodejaneiro-1). */
export const OCI_REGIONS: readonly string[] = [
  // oc1 (commercial)
  "af-johannesburg-1",
  "ap-batam-1", "ap-chuncheon-1", "ap-hyderabad-1", "ap-melbourne-1", "ap-mumbai-1", "ap-osaka-1", "ap-seoul-1",
  "ap-singapore-1", "ap-singapore-2", "ap-sydney-1", "ap-tokyo-1",
  "ca-montreal-1", "ca-toronto-1",
  "eu-amsterdam-1", "eu-frankfurt-1", "eu-madrid-1", "eu-madrid-3", "eu-marseille-1", "eu-milan-1", "eu-paris-1",
  "eu-stockholm-1", "eu-turin-1", "eu-zurich-1",
  "il-jerusalem-1",
  "me-abudhabi-1", "me-dubai-1", "me-jeddah-1", "me-riyadh-1",
  "mx-monterrey-1", "mx-queretaro-1",
  "sa-bogota-1", "sa-riodejaneiro-1", "sa-santiago-1", "sa-saopaulo-1", "sa-valparaiso-1", "sa-vinhedo-1",
  "uk-cardiff-1", "uk-london-1",
  "us-ashburn-1", "us-chicago-1", "us-phoenix-1", "us-saltlake-2", "us-sanjose-1",
  // oc2, oc3 (US government)
  "us-langley-1", "us-luke-1", "us-gov-ashburn-1", "us-gov-chicago-1", "us-gov-phoenix-1",
  // oc4 (UK government)
  "uk-gov-london-1", "uk-gov-cardiff-1",
  // oc19 (EU sovereign)
  "eu-frankfurt-2", "eu-madrid-2",
  // dedicated and other realms
  "ap-chiyoda-1", "ap-ibaraki-1", "me-dcc-muscat-1", "ap-dcc-canberra-1",
  "eu-dcc-milan-1", "eu-dcc-milan-2", "eu-dcc-dublin-1", "eu-dcc-dublin-2", "eu-dcc-rating-1", "eu-dcc-rating-2",
  "ap-dcc-gazipur-1", "eu-jovanovac-1", "me-dcc-doha-1", "us-somerset-1", "us-thames-1",
  "eu-dcc-zurich-1", "eu-crissier-1", "me-abudhabi-2", "me-abudhabi-3", "me-abudhabi-4",
  "ap-seoul-2", "ap-suwon-1", "ap-chuncheon-2",
];

/** Alibaba Cloud regions with OSS (region ids as the OSS endpoints `oss-<id>.aliyuncs.com` use them). */
export const ALICLOUD_REGIONS: readonly string[] = [
  "cn-hangzhou", "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-wuhan-lr", "cn-qingdao", "cn-beijing",
  "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-shenzhen", "cn-heyuan", "cn-guangzhou",
  "cn-chengdu", "cn-hongkong",
  "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-3", "ap-southeast-5",
  "ap-southeast-6", "ap-southeast-7", "us-west-1", "us-east-1", "eu-central-1", "eu-west-1",
  "me-east-1", "me-central-1", "na-south-1",
];

/** Linode (Akamai) regions with Object Storage. A bucket may also name a legacy cluster id, which
 *  is the region plus "-1" (us-east-1). */
export const LINODE_REGIONS: readonly string[] = [
  "us-east", "us-southeast", "eu-central", "ap-south", "us-iad", "us-ord", "fr-par", "us-sea",
  "se-sto", "in-maa", "jp-osa", "it-mil", "us-mia", "id-cgk", "us-lax", "nl-ams", "es-mad",
  "br-gru", "gb-lon", "au-mel", "in-bom-2", "de-fra-2", "sg-sin-2", "jp-tyo-3",
];

/** Known regions per provider whose `region` names a cloud region. (`s3` buckets name whatever
 *  their service documents, so they have no table.) */
export const REGIONS = {
  aws: AWS_REGIONS,
  oci: OCI_REGIONS,
  alicloud: ALICLOUD_REGIONS,
  linode: LINODE_REGIONS,
} as const satisfies Record<string, readonly string[]>;

export type RegionProvider = keyof typeof REGIONS;

export const PROVIDER_NAMES: Record<RegionProvider, string> = { aws: "AWS", oci: "OCI", alicloud: "Alibaba Cloud OSS", linode: "Linode Object Storage" };

/** An example region per provider, for fixes. */
export const REGION_EXAMPLES: Record<RegionProvider, string> = { aws: "us-east-1", oci: "uk-london-1", alicloud: "cn-hangzhou", linode: "us-east" };

/** Whether `region` is a known region of `provider`, or listed in `extra` (the escape hatch). */
export function isKnownRegion(provider: RegionProvider, region: string, extra: readonly string[] = []): boolean {
  return REGIONS[provider].includes(region) || extra.includes(region);
}

/** The provider whose table holds this region, if another one does (an OCI name on an AWS bucket). */
export function regionOwner(region: string): RegionProvider | undefined {
  return (Object.keys(REGIONS) as RegionProvider[]).find((p) => REGIONS[p].includes(region));
}
