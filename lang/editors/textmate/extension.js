// The pcfg extension for VS Code: highlighting (pcfg.tmLanguage.json) and the language server,
// `pcfg lsp`, started for pcfg files through vscode-languageclient. The setting
// `pcfg.server.path` names the binary (default: `pcfg` on the PATH); `pcfg.server.enable`
// turns the server off and leaves the highlighting.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("pcfg");
  if (!settings.get("server.enable", true)) {
    return undefined;
  }
  const server = { command: settings.get("server.path", "pcfg"), args: ["lsp"] };
  client = new LanguageClient(
    "pcfg",
    "pcfg",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "pcfg" }] },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
