// Settings outside the topology that the deployment reads and the plan must check the same way.
// The deployment (components/topology.ts) reads them from the Pulumi config and the environment;
// the offline plan command (scripts/plan.ts) from the stack file and the environment.

export interface PlanSettings {
  /** The OCI tenancy OCID: the stack config `oci:tenancyOcid`, else TF_VAR_tenancy_ocid (the same
   *  sources, in the same order, as the deployment's ociTenancy). `runner.tenancyId` wins over it. */
  ociTenancyOcid?: string;
  /** Region names accepted besides the known ones (stack config `bucket-replication:extraRegions`):
   *  the escape hatch for a region that opened after components/plan/regions.ts was written. */
  extraRegions?: string[];
  /** How long `pulumi up` waits for an S3 Batch Replication backfill (stack config
   *  `bucket-replication:backfillTimeoutMinutes`; default 60). */
  backfillTimeoutMinutes?: number;
  /**
   * Whether every value the deployment will see is visible here. True in the deployment. False for
   * the offline plan, which cannot see values set with `pulumi config set --secret` (S3 credentials)
   * or kept out of the committed stack file (replication roles): those rules are then reported as
   * reminders in the plan output instead of problems.
   */
  complete?: boolean;
}

/** Where a setting comes from, for fixes. */
export const TENANCY_FIX =
  "set runner.tenancyId, or the stack config oci:tenancyOcid (pulumi config set oci:tenancyOcid ocid1.tenancy.oc1..<id>), or the TF_VAR_tenancy_ocid environment variable";

export const EXTRA_REGIONS_KEY = "bucket-replication:extraRegions";
export const BACKFILL_TIMEOUT_KEY = "bucket-replication:backfillTimeoutMinutes";
export const DEFAULT_BACKFILL_TIMEOUT_MINUTES = 60;
