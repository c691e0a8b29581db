" pcfg system configurations
autocmd BufRead,BufNewFile *.pcfg setfiletype pcfg
