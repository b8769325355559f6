// The known-region tables (components/plan/regions.ts) against the pinned provider's own list.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { AWS_REGIONS, OCI_REGIONS, REGIONS, isKnownRegion, regionOwner } from "../../components/plan/regions.js";

describe("known regions", () => {
  it("AWS: exactly the regions of the pinned @pulumi/aws Region enum", () => {
    const dts = readFileSync(createRequire(import.meta.url).resolve("@pulumi/aws/types/enums/index.d.ts"), "utf8");
    const block = /export declare const Region: \{([\s\S]*?)\};/.exec(dts)![1];
    const fromEnum = [...block.matchAll(/: "([a-z0-9-]+)";/g)].map((m) => m[1]).sort();
    expect(fromEnum.length).toBeGreaterThan(30);
    expect([...AWS_REGIONS].sort()).toEqual(fromEnum);
  });

  it("OCI: the commercial regions of the issue's examples and every realm's format", () => {
    for (const r of ["uk-london-1", "eu-zurich-1", "eu-frankfurt-1", "uk-cardiff-1", "us-ashburn-1", "ap-osaka-1"]) expect(OCI_REGIONS).toContain(r);
    for (const r of OCI_REGIONS) expect(r).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
  });

  it("no name is in two tables (but Alibaba Cloud's, which reuses AWS-style ids), and lookups honour the extra list", () => {
    const all = [REGIONS.aws, REGIONS.oci, REGIONS.linode].flat();
    expect(new Set(all).size).toBe(all.length);
    // eu-central-1 is both AWS Frankfurt and Alibaba Cloud Frankfurt: an error names AWS first
    expect(REGIONS.alicloud).toContain("eu-central-1");
    expect(REGIONS.alicloud.filter((r) => !REGIONS.aws.includes(r)).every((r) => !all.includes(r))).toBe(true);
    expect(regionOwner("eu-frankfurt-1")).toBe("oci");
    expect(regionOwner("eu-central-1")).toBe("aws");
    expect(isKnownRegion("oci", "eu-newcity-1")).toBe(false);
    expect(isKnownRegion("oci", "eu-newcity-1", ["eu-newcity-1"])).toBe(true);
  });
});
