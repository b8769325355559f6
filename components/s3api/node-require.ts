// Loading the AWS SDK from code that a Pulumi dynamic provider serializes. The serialized functions
// run in the dynamic-provider host as CommonJS (`require` exists, resolving from the project
// directory); anywhere else (an ESM program, tests) a require is built for the working directory.
// No `import()` expression: transformers rewrite it into helpers that cannot be serialized.
export function nodeRequire(id: string): any {
  const req: (id: string) => any =
    typeof require === "function" ? require : process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`);
  return req(id);
}
