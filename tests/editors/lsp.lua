-- Neovim's built-in LSP client driving `pcfg lsp` (run headless by tests/editors.rs), started
-- as users start it: by the runtime directory lang/editors/vim ($RUNTIME), whose file type
-- detection and ftplugin/pcfg.lua attach the server to a pcfg buffer. Opens $FILE, waits for
-- the diagnostics, asks for hover at line 2, column 17, formats the buffer and writes what it
-- got to $OUT, one line each. Written for Neovim 0.7 (Debian bookworm's).
local pcfg, file, out = os.getenv("PCFG"), os.getenv("FILE"), os.getenv("OUT")
vim.opt.runtimepath:prepend(os.getenv("RUNTIME"))
vim.g.pcfg_lsp_cmd = { pcfg, "lsp" }
vim.cmd("filetype off")
vim.cmd("filetype plugin on")
vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local lines = { "filetype " .. vim.bo.filetype }
local id
vim.wait(5000, function()
  for _, c in pairs(vim.lsp.buf_get_clients(buf)) do
    if c.name == "pcfg" then id = c.id end
  end
  return id ~= nil
end, 50)
if not id then
  table.insert(lines, "no client attached")
  vim.fn.writefile(lines, out)
  vim.cmd("qall!")
end
if not vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50) then
  table.insert(lines, "no diagnostics")
end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local message = string.gsub(d.message, "\n", " ")
  table.insert(lines, string.format("diagnostic %d:%d %s", d.lnum, d.col, message))
end
local client = vim.lsp.get_client_by_id(id)
local uri = vim.uri_from_bufnr(buf)
local hover = client.request_sync("textDocument/hover",
  { textDocument = { uri = uri }, position = { line = 1, character = 16 } }, 20000, buf)
if hover and hover.result then
  table.insert(lines, "hover " .. string.gsub(hover.result.contents.value, "\n", " "))
else
  table.insert(lines, "no hover")
end
local format = client.request_sync("textDocument/formatting",
  { textDocument = { uri = uri }, options = { tabSize = 2, insertSpaces = true } }, 20000, buf)
if format and format.result then
  vim.lsp.util.apply_text_edits(format.result, buf, "utf-16")
  table.insert(lines, "formatted " .. table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "|"))
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(id)
vim.wait(5000, function() return vim.lsp.get_client_by_id(id) == nil end, 50)
vim.cmd("qall!")
