// The S3 Batch Replication backfill provider against a stubbed S3 Control client (no cloud): the
// idempotency token, waiting for the job, failures, timeouts, picking a job up again, and the
// provider's diff/update/delete calls. The stub answers `send` by command name, like S3 Control would.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  batchReplicationProvider,
  DEFAULT_TIMEOUT_MINUTES,
  jobToken,
  runBackfill,
  REPLACE_ON,
  type BatchReplicationInputs,
  type BatchReplicationOutputs,
} from "../../components/aws/batch-replication.js";
import { nodeRequire } from "../../components/s3api/node-require.js";
import { DEFAULT_BACKFILL_TIMEOUT_MINUTES } from "../../components/plan/settings.js";

// The same CommonJS module instance the provider loads, so its client's prototype can be stubbed.
const sdk = nodeRequire("@aws-sdk/client-s3-control") as typeof import("@aws-sdk/client-s3-control");

const INPUTS: BatchReplicationInputs = {
  accountId: "111111111111",
  region: "eu-west-1",
  sourceBucket: "src",
  roleArn: "arn:aws:iam::111111111111:role/batch",
  destinations: ["dst-b", "dst-c"],
  prefixes: [""],
  owner: "proj/stack/topo/a",
};

const T0 = Date.parse("2030-01-01T00:00:00Z");

interface FakeJob {
  JobId: string;
  Description: string;
  CreationTime: Date;
  /** Statuses returned by successive DescribeJob calls; the last one repeats. */
  statuses: string[];
  failed?: number;
  total?: number;
  FailureReasons?: { FailureCode?: string; FailureReason?: string }[];
  Report?: { Enabled: boolean; Bucket?: string; Prefix?: string };
}

/** A stubbed S3 Control: records every call, answers by command name. */
class FakeS3Control {
  calls: { name: string; input: any }[] = [];
  jobs = new Map<string, FakeJob>();
  byToken = new Map<string, string>();
  /** Errors thrown by the next calls of a command, in order. */
  failNext: Record<string, Error[]> = {};
  listAllowed = true;
  clock = { t: T0 };
  /** What a new job does: its DescribeJob statuses and results. */
  nextJob: Partial<FakeJob> = { statuses: ["Complete"] };

  send = async (cmd: any): Promise<any> => {
    const name: string = cmd.constructor.name;
    const input = cmd.input;
    this.calls.push({ name, input });
    const err = this.failNext[name]?.shift();
    if (err) throw err;
    switch (name) {
      case "ListJobsCommand": {
        if (!this.listAllowed) throw named("AccessDenied", "not authorized to perform s3:ListJobs");
        return { Jobs: [...this.jobs.values()].map((j) => ({ JobId: j.JobId, Description: j.Description })) };
      }
      case "CreateJobCommand": {
        const known = this.byToken.get(input.ClientRequestToken);
        if (known) return { JobId: known };
        const id = `job-${this.jobs.size + 1}`;
        this.jobs.set(id, {
          statuses: ["Complete"],
          ...this.nextJob,
          JobId: id,
          Description: input.Description,
          CreationTime: new Date(this.clock.t),
        } as FakeJob);
        this.byToken.set(input.ClientRequestToken, id);
        return { JobId: id };
      }
      case "DescribeJobCommand": {
        const j = this.jobs.get(input.JobId);
        if (!j) throw named("NotFoundException", "no such job");
        const Status = j.statuses.length > 1 ? j.statuses.shift()! : j.statuses[0];
        const total = j.total ?? 5;
        const failed = j.failed ?? 0;
        return {
          Job: {
            JobId: j.JobId,
            Status,
            CreationTime: j.CreationTime,
            ProgressSummary: { TotalNumberOfTasks: total, NumberOfTasksSucceeded: total - failed, NumberOfTasksFailed: failed },
            FailureReasons: j.FailureReasons,
            Report: j.Report ?? { Enabled: false },
          },
        };
      }
      case "UpdateJobStatusCommand":
      case "UpdateJobPriorityCommand":
        return {};
      default:
        throw new Error(`unexpected ${name}`);
    }
  };

  /** Deps for runBackfill with a fake clock: sleeping advances it. */
  deps(pollMs = 15_000) {
    return {
      client: { send: this.send },
      sdk,
      now: () => this.clock.t,
      sleep: async (ms: number) => {
        this.clock.t += ms;
      },
      pollMs,
    };
  }

  names = () => this.calls.map((c) => c.name);
  inputsOf = (name: string) => this.calls.filter((c) => c.name === name).map((c) => c.input);

  /** A job that exists before the test's create (an earlier `pulumi up`). */
  addJob(token: string, job: Partial<FakeJob>, ageMs = 60 * 60_000) {
    const id = `old-${this.jobs.size + 1}`;
    this.jobs.set(id, {
      statuses: ["Complete"],
      ...job,
      JobId: id,
      Description: `[bucket-replication ${token}] backfill`,
      CreationTime: new Date(this.clock.t - ageMs),
    } as FakeJob);
    this.byToken.set(token, id);
    return id;
  }
}

function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** Routes the real provider's S3ControlClient.send to `fake`. */
function stubClient(fake: FakeS3Control) {
  return vi.spyOn(sdk.S3ControlClient.prototype, "send").mockImplementation(((cmd: any) => fake.send(cmd)) as never);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("idempotency token", () => {
  it("is computed from the inputs: same inputs, same token; at most 64 characters", () => {
    const t = jobToken(INPUTS);
    expect(t).toMatch(/^[0-9a-f]{56}-0$/);
    expect(t.length).toBeLessThanOrEqual(64);
    expect(jobToken({ ...INPUTS, destinations: [...INPUTS.destinations] })).toBe(t);
    // Not part of the job's identity: priority and the wait.
    expect(jobToken({ ...INPUTS, priority: 99, timeoutMinutes: 5 })).toBe(t);
  });

  it("changes with every input that replaces the job", () => {
    const t = jobToken(INPUTS);
    const variants: Partial<BatchReplicationInputs>[] = [
      { destinations: ["dst-b"] },
      { destinations: ["dst-b", "dst-c", "dst-d"] },
      { roleArn: "arn:aws:iam::111111111111:role/other" },
      { accountId: "222222222222" },
      { region: "us-east-1" },
      { sourceBucket: "src2" },
      { prefixes: ["logs/"] },
      { owner: "proj/other-stack/topo/a" },
    ];
    const seen = new Set([t]);
    for (const v of variants) {
      const other = jobToken({ ...INPUTS, ...v });
      expect(other, JSON.stringify(v)).not.toBe(t);
      seen.add(other);
    }
    expect(seen.size).toBe(variants.length + 1);
    // Every replace-on input is covered by a variant above.
    expect([...REPLACE_ON].sort()).toEqual(["accountId", "destinations", "owner", "prefixes", "region", "roleArn", "sourceBucket"]);
  });
});

describe("provider create", () => {
  it("sends CreateJob with the token, then waits for the job and returns it", async () => {
    const fake = new FakeS3Control();
    stubClient(fake);
    const r = await batchReplicationProvider.create!(INPUTS);
    const [req] = fake.inputsOf("CreateJobCommand");
    expect(req.ClientRequestToken).toBe(jobToken(INPUTS));
    expect(req.Description.startsWith(`[bucket-replication ${jobToken(INPUTS)}]`)).toBe(true);
    expect(req.ManifestGenerator.S3JobManifestGenerator.Filter.ObjectReplicationStatuses).toEqual(["NONE", "FAILED", "COMPLETED"]);
    expect(fake.names()).toEqual(["ListJobsCommand", "CreateJobCommand", "DescribeJobCommand"]);
    expect(r.id).toBe("job-1");
    expect(r.outs).toMatchObject({ ...INPUTS, jobId: "job-1", clientRequestToken: jobToken(INPUTS), tasksSucceeded: 5 });
  });

  it("a retry after a failed create reuses the same token", async () => {
    const fake = new FakeS3Control();
    stubClient(fake);
    fake.failNext.CreateJobCommand = [named("InternalError", "We encountered an internal error")];
    await expect(batchReplicationProvider.create!(INPUTS)).rejects.toThrow(/internal error/);
    await batchReplicationProvider.create!(INPUTS);
    const tokens = fake.inputsOf("CreateJobCommand").map((i) => i.ClientRequestToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
  });

  it("retries CreateJob with the same token while a new role is not assumable yet", async () => {
    const fake = new FakeS3Control();
    fake.failNext.CreateJobCommand = [named("AccessDeniedException", "S3 Batch Operations cannot assume the role")];
    const r = await runBackfill(INPUTS, fake.deps());
    const tokens = fake.inputsOf("CreateJobCommand").map((i) => i.ClientRequestToken);
    expect(tokens).toEqual([jobToken(INPUTS), jobToken(INPUTS)]);
    expect(r.jobId).toBe("job-1");
  });
});

describe("waiting for the job", () => {
  it("polls DescribeJob until Complete", async () => {
    const fake = new FakeS3Control();
    fake.nextJob = { statuses: ["New", "Preparing", "Active", "Active", "Complete"], total: 1234 };
    const r = await runBackfill(INPUTS, fake.deps(10_000));
    expect(fake.inputsOf("DescribeJobCommand")).toHaveLength(5);
    expect(fake.inputsOf("DescribeJobCommand").every((i) => i.JobId === "job-1" && i.AccountId === INPUTS.accountId)).toBe(true);
    expect(fake.clock.t - T0).toBe(40_000);
    expect(r).toEqual({ jobId: "job-1", clientRequestToken: jobToken(INPUTS), tasksSucceeded: 1234 });
  });

  it("fails when the job fails, naming the job, the reason and how to follow it up", async () => {
    const fake = new FakeS3Control();
    fake.nextJob = {
      statuses: ["Preparing", "Failed"],
      FailureReasons: [{ FailureCode: "ManifestGenerationFailed", FailureReason: "Access denied to the source bucket" }],
    };
    const err = await runBackfill(INPUTS, fake.deps()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain("job-1");
    expect(msg).toContain("ManifestGenerationFailed: Access denied to the source bucket");
    expect(msg).toContain("aws s3control describe-job --account-id 111111111111 --region eu-west-1 --job-id job-1");
  });

  it("fails when the job completes with failed tasks, and names the completion report when there is one", async () => {
    const fake = new FakeS3Control();
    fake.nextJob = { statuses: ["Active", "Complete"], total: 10, failed: 3, Report: { Enabled: true, Bucket: "arn:aws:s3:::reports", Prefix: "br" } };
    const msg = await runBackfill(INPUTS, fake.deps()).then(
      () => "resolved",
      (e: Error) => e.message,
    );
    expect(msg).toMatch(/job-1 .*completed with 3 of 10 tasks failed/);
    expect(msg).toContain("s3://reports/br/job-job-1/");
  });

  it("fails on a cancelled job", async () => {
    const fake = new FakeS3Control();
    fake.nextJob = { statuses: ["Active", "Cancelled"] };
    await expect(runBackfill(INPUTS, fake.deps())).rejects.toThrow(/job-1 .*was cancelled/);
  });

  it("fails at the timeout, naming the job and how to follow it, while the job keeps running", async () => {
    const fake = new FakeS3Control();
    fake.nextJob = { statuses: ["Active"] };
    const err = (await runBackfill({ ...INPUTS, timeoutMinutes: 2 }, fake.deps()).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/job-1 .*still Active after 2 minutes/);
    expect(err.message).toContain("--job-id job-1");
    expect(err.message).toContain("bucket-replication:backfillTimeoutMinutes");
    expect(fake.clock.t - T0).toBe(2 * 60_000);
    expect(fake.names()).not.toContain("UpdateJobStatusCommand");
  });

  it("the next create after a timeout waits for the same job instead of starting another", async () => {
    const fake = new FakeS3Control();
    fake.nextJob = { statuses: ["Active"] };
    await expect(runBackfill({ ...INPUTS, timeoutMinutes: 1 }, fake.deps())).rejects.toThrow(/still Active/);
    fake.jobs.get("job-1")!.statuses = ["Active", "Complete"];
    const r = await runBackfill(INPUTS, fake.deps());
    expect(r.jobId).toBe("job-1");
    expect(fake.inputsOf("CreateJobCommand")).toHaveLength(1);
  });

  it("without s3:ListJobs, CreateJob's reused token still returns the same job", async () => {
    const fake = new FakeS3Control();
    fake.listAllowed = false;
    fake.nextJob = { statuses: ["Active"] };
    await expect(runBackfill({ ...INPUTS, timeoutMinutes: 1 }, fake.deps())).rejects.toThrow(/still Active/);
    fake.jobs.get("job-1")!.statuses = ["Complete"];
    const r = await runBackfill(INPUTS, fake.deps());
    expect(r.jobId).toBe("job-1");
    expect(new Set(fake.inputsOf("CreateJobCommand").map((i) => i.ClientRequestToken)).size).toBe(1);
  });

  it("after a job that failed in an earlier up, starts the next job with the next token", async () => {
    const fake = new FakeS3Control();
    const old = fake.addJob(jobToken(INPUTS, 0), { statuses: ["Failed"] });
    const r = await runBackfill(INPUTS, fake.deps());
    expect(r.jobId).not.toBe(old);
    expect(r.clientRequestToken).toBe(jobToken(INPUTS, 1));
    expect(fake.inputsOf("CreateJobCommand").map((i) => i.ClientRequestToken)).toEqual([jobToken(INPUTS, 1)]);
  });

  it("a job of an earlier up that completed is taken as the backfill", async () => {
    const fake = new FakeS3Control();
    const old = fake.addJob(jobToken(INPUTS, 0), { statuses: ["Complete"] });
    const r = await runBackfill(INPUTS, fake.deps());
    expect(r.jobId).toBe(old);
    expect(fake.inputsOf("CreateJobCommand")).toHaveLength(0);
  });

  it("without s3:ListJobs: an old failed job returned for the token is skipped, a new one that fails is reported", async () => {
    const fake = new FakeS3Control();
    fake.listAllowed = false;
    fake.addJob(jobToken(INPUTS, 0), { statuses: ["Failed"] });
    fake.nextJob = { statuses: ["Failed"] };
    await expect(runBackfill(INPUTS, fake.deps())).rejects.toThrow(/job-2 .*failed/);
    expect(fake.inputsOf("CreateJobCommand").map((i) => i.ClientRequestToken)).toEqual([jobToken(INPUTS, 0), jobToken(INPUTS, 1)]);
  });
});

describe("provider diff and update", () => {
  const olds: BatchReplicationOutputs = { ...INPUTS, priority: 10, jobId: "job-1", clientRequestToken: jobToken(INPUTS), tasksSucceeded: 5 };

  it("replaces when an input of the job's identity changes", async () => {
    for (const [k, v] of [
      ["destinations", ["dst-b", "dst-c", "dst-d"]],
      ["roleArn", "arn:aws:iam::111111111111:role/new"],
      ["prefixes", ["logs/"]],
      ["accountId", "222222222222"],
      ["region", "us-east-1"],
      ["sourceBucket", "other"],
      ["owner", "x/y/z/a"],
    ] as const) {
      const d = await batchReplicationProvider.diff!("job-1", olds, { ...INPUTS, priority: 10, [k]: v });
      expect(d, k).toMatchObject({ changes: true, replaces: [k] });
    }
  });

  it("removing a destination needs no new job: an in-place update that keeps the job and its token", async () => {
    const d = await batchReplicationProvider.diff!("job-1", olds, { ...INPUTS, priority: 10, destinations: ["dst-c"] });
    expect(d).toMatchObject({ changes: true, replaces: [] });
    const fake = new FakeS3Control();
    stubClient(fake);
    const r = await batchReplicationProvider.update!("job-1", olds, { ...INPUTS, priority: 10, destinations: ["dst-c"] });
    expect(r.outs).toMatchObject({ destinations: ["dst-c"], jobId: "job-1", clientRequestToken: olds.clientRequestToken });
    expect(fake.calls).toEqual([]);
    // Swapping one destination for another is an addition: a new job.
    const swap = await batchReplicationProvider.diff!("job-1", olds, { ...INPUTS, priority: 10, destinations: ["dst-b", "dst-d"] });
    expect(swap).toMatchObject({ changes: true, replaces: ["destinations"] });
  });

  it("no change for the same inputs; priority and timeout update in place", async () => {
    expect(await batchReplicationProvider.diff!("job-1", olds, { ...INPUTS, priority: 10 })).toMatchObject({ changes: false, replaces: [] });
    expect(await batchReplicationProvider.diff!("job-1", olds, { ...INPUTS, priority: 50 })).toMatchObject({ changes: true, replaces: [] });
    expect(await batchReplicationProvider.diff!("job-1", olds, { ...INPUTS, priority: 10, timeoutMinutes: 240 })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it("update sends UpdateJobPriority, and ignores a job that has already finished", async () => {
    const fake = new FakeS3Control();
    stubClient(fake);
    const r = await batchReplicationProvider.update!("job-1", olds, { ...INPUTS, priority: 50 });
    expect(fake.inputsOf("UpdateJobPriorityCommand")).toEqual([{ AccountId: INPUTS.accountId, JobId: "job-1", Priority: 50 }]);
    expect(r.outs).toMatchObject({ priority: 50, jobId: "job-1", clientRequestToken: olds.clientRequestToken });

    fake.failNext.UpdateJobPriorityCommand = [named("JobStatusException", "job is Complete")];
    await expect(batchReplicationProvider.update!("job-1", olds, { ...INPUTS, priority: 60 })).resolves.toBeDefined();

    const before = fake.calls.length;
    await batchReplicationProvider.update!("job-1", olds, { ...INPUTS, priority: 10, timeoutMinutes: 240 });
    expect(fake.calls.length).toBe(before);
  });
});

describe("provider delete", () => {
  const props: BatchReplicationOutputs = { ...INPUTS, jobId: "job-1", clientRequestToken: jobToken(INPUTS), tasksSucceeded: 0 };

  async function deleteWith(status: string | null, cancelError?: Error) {
    const fake = new FakeS3Control();
    if (status) fake.jobs.set("job-1", { JobId: "job-1", Description: "", CreationTime: new Date(T0), statuses: [status] });
    if (cancelError) fake.failNext.UpdateJobStatusCommand = [cancelError];
    stubClient(fake);
    const result = await batchReplicationProvider.delete!("job-1", props).then(
      () => null,
      (e: Error) => e,
    );
    return { fake, result };
  }

  for (const status of ["New", "Preparing", "Active", "Suspended"]) {
    it(`cancels a ${status} job`, async () => {
      const { fake, result } = await deleteWith(status);
      expect(result).toBeNull();
      expect(fake.inputsOf("UpdateJobStatusCommand")).toEqual([
        expect.objectContaining({ AccountId: INPUTS.accountId, JobId: "job-1", RequestedJobStatus: "Cancelled" }),
      ]);
    });
  }

  for (const status of ["Complete", "Failed", "Cancelled"]) {
    it(`leaves a ${status} job alone`, async () => {
      const { fake, result } = await deleteWith(status);
      expect(result).toBeNull();
      expect(fake.names()).toEqual(["DescribeJobCommand"]);
    });
  }

  it("a job gone from S3's list (90 days) is already deleted", async () => {
    const { fake, result } = await deleteWith(null);
    expect(result).toBeNull();
    expect(fake.names()).toEqual(["DescribeJobCommand"]);
  });

  it("swallows the error of a job that finished between DescribeJob and the cancel", async () => {
    const { result } = await deleteWith("Active", named("JobStatusException", "job is not in a cancellable state"));
    expect(result).toBeNull();
  });

  it("fails when a running job cannot be cancelled", async () => {
    const { result } = await deleteWith("Active", named("AccessDenied", "not authorized to perform s3:UpdateJobStatus"));
    expect(result?.message).toMatch(/could not cancel S3 Batch Replication job job-1 \(Active\)/);
  });
});

describe("the plan states the same time limit", () => {
  it("npm run plan's default backfill wait is the provider's default timeout", () => {
    expect(DEFAULT_BACKFILL_TIMEOUT_MINUTES).toBe(DEFAULT_TIMEOUT_MINUTES);
  });
});
