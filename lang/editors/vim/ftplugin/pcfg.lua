-- pcfg: Neovim starts `pcfg lsp` for each pcfg buffer (one server per root directory, the
-- nearest one holding .git, else the file's directory). Set vim.g.pcfg_lsp_cmd to another
-- command ({ "/path/to/pcfg", "lsp" }), or vim.g.pcfg_lsp = false to leave the server off.
-- Vim reads only pcfg.vim; Neovim reads both.
if vim.g.pcfg_lsp == false or vim.b.pcfg_lsp_started then
  return
end
local cmd = vim.g.pcfg_lsp_cmd or { "pcfg", "lsp" }
if vim.fn.executable(cmd[1]) ~= 1 then
  return
end
vim.b.pcfg_lsp_started = true
local buf = vim.api.nvim_get_current_buf()
local file = vim.api.nvim_buf_get_name(buf)
local git = vim.fn.finddir(".git/..", vim.fn.fnamemodify(file, ":p:h") .. ";")
local root = git ~= "" and vim.fn.fnamemodify(git, ":p") or vim.fn.fnamemodify(file, ":p:h")
local config = { name = "pcfg", cmd = cmd, root_dir = root }
if vim.lsp.start then
  -- Neovim 0.8 and later: reuses the client of the same name and root.
  vim.lsp.start(config)
else
  -- Neovim 0.7 (Debian bookworm's): one client per root, kept here.
  _G.pcfg_lsp_clients = _G.pcfg_lsp_clients or {}
  local id = _G.pcfg_lsp_clients[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(config)
    _G.pcfg_lsp_clients[root] = id
  end
  vim.lsp.buf_attach_client(buf, id)
end
