// The least-privilege statements from policy.ts, checked on their own (the deploy tests check that
// the resources carry them).
import { describe, expect, it } from "vitest";
import { ociBucketStatements, s3Statements, type BucketAccess } from "../../components/deploy/policy.js";

const access = (read: string[], write: string[], del: string[]): BucketAccess => ({ read: new Set(read), write: new Set(write), delete: new Set(del) });
const ABORT_ONLY = /request\.permission = 'OBJECT_DELETE', request\.operation = 'AbortMultipartUpload'\}$/;

describe("OCI bucket statements", () => {
  it("a source is read-only: no create, overwrite or delete of any kind", () => {
    const st = ociBucketStatements("group id g", [{ bucket: "src", compartmentId: "c", access: access([""], [], []) }]);
    expect(st).toHaveLength(2);
    expect(st.join("\n")).not.toMatch(/OBJECT_(CREATE|OVERWRITE|DELETE)/);
  });

  it("a copy-only target may create/overwrite, and may use OBJECT_DELETE only to abort a multipart upload", () => {
    const st = ociBucketStatements("group id g", [{ bucket: "dst", compartmentId: "c", access: access(["x/"], ["x/"], []) }]);
    expect(st).toHaveLength(3);
    expect(st[1]).toMatch(/OBJECT_CREATE.*OBJECT_OVERWRITE/);
    expect(st[1]).not.toContain("OBJECT_DELETE");
    // the third statement grants OBJECT_DELETE under the AbortMultipartUpload operation only
    expect(st[2]).toBe(
      "Allow group id g to manage objects in compartment id c where all {target.bucket.name = 'dst', request.permission = 'OBJECT_DELETE', request.operation = 'AbortMultipartUpload'}",
    );
    expect(st.filter((s) => s.includes("OBJECT_DELETE")).every((s) => ABORT_ONLY.test(s))).toBe(true);
  });

  it("a target with delete propagation gets OBJECT_DELETE outright (which covers the abort)", () => {
    const st = ociBucketStatements("dynamic-group id d", [{ bucket: "dst", compartmentId: "c", access: access([""], [""], [""]) }]);
    expect(st).toHaveLength(2);
    expect(st[1]).toContain("request.permission = 'OBJECT_DELETE'");
    expect(st.some((s) => ABORT_ONLY.test(s))).toBe(false);
  });

  it("refuses a bucket name that would break out of the quotes", () => {
    expect(() => ociBucketStatements("group id g", [{ bucket: "a'b", compartmentId: "c", access: access([""], [], []) }])).toThrow(/quotes/);
  });
});

describe("S3 statements", () => {
  it("a copy-only target can abort its multipart uploads without s3:DeleteObject", () => {
    const st = s3Statements("dst", access(["x/"], ["x/"], []));
    expect(st.find((s) => s.Sid === "Writedst")!.Action).toContain("s3:AbortMultipartUpload");
    expect(st.flatMap((s) => s.Action)).not.toContain("s3:DeleteObject");
  });
});
