// The provider functions (data sources) the components call, answered the same way in every
// Pulumi-mock test: the component tests, the security walk and the program harness. One table, so a
// new lookup in a component needs one answer here, not one per test file.

export interface CallAnswers {
  /** Availability zones getAvailabilityZones returns (default us-east-1a/b). */
  zones?: string[];
  /** The Object Storage namespace getNamespace returns (default "ns1"). */
  namespace?: string;
}

/** The mocked result of a provider function call, or undefined when the table has no answer. */
export function providerCall(token: string, inputs: Record<string, any>, answers: CallAnswers = {}): Record<string, unknown> | undefined {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: "111111111111", arn: "arn:aws:iam::111111111111:user/test", userId: "AIDTEST", id: "111111111111" };
    case "aws:ssm/getParameter:getParameter":
      return { name: inputs.name, value: "ami-0123456789abcdef0", type: "String" };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: answers.zones ?? ["us-east-1a", "us-east-1b"], zoneIds: [] };
    case "aws:ec2/getSubnet:getSubnet":
      return { id: inputs.id, vpcId: "vpc-existing" };
    case "oci:Core/getSubnet:getSubnet":
      return { id: inputs.subnetId, subnetId: inputs.subnetId, vcnId: "ocid1.vcn.oc1..existing" };
    case "oci:Core/getImages:getImages":
      return { images: [{ id: "ocid1.image.oc1..ol9" }] };
    case "oci:Core/getServices:getServices":
      return { services: [{ id: "ocid1.service.oc1..all", cidrBlock: "all-lhr-services-in-oracle-services-network", name: "All LHR Services In Oracle Services Network" }] };
    case "oci:Identity/getAvailabilityDomains:getAvailabilityDomains":
      return { availabilityDomains: [{ name: "Uocm:LHR-AD-1" }] };
    case "oci:ObjectStorage/getNamespace:getNamespace":
      return { namespace: answers.namespace ?? "ns1" };
  }
  return undefined;
}
