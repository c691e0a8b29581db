// Tokenizes .pcfg files with the TextMate grammar as VS Code does (vscode-textmate and
// Oniguruma), printing one JSON line per token: { file, line, text, scopes }.
// Usage: NODE_PATH=target/test-tools/node_modules node tokenize.js GRAMMAR FILE...
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

async function main() {
  const [grammarPath, ...files] = process.argv.slice(2);
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
  const onigLib = oniguruma.loadWASM(wasm.buffer).then(() => ({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }));
  const registry = new vsctm.Registry({
    onigLib,
    loadGrammar: async (scope) =>
      scope === 'source.pcfg'
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath)
        : null,
  });
  const grammar = await registry.loadGrammar('source.pcfg');
  for (const file of files) {
    let stack = vsctm.INITIAL;
    const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      const result = grammar.tokenizeLine(line, stack);
      for (const token of result.tokens) {
        const text = line.substring(token.startIndex, token.endIndex);
        process.stdout.write(JSON.stringify({ file, line: i + 1, text, scopes: token.scopes }) + '\n');
      }
      stack = result.ruleStack;
    });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
