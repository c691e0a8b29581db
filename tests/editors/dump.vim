" Writes `LINE:COLUMN:GROUP` for every non-blank character of the buffer to $PCFG_SYNTAX_OUT.
let s:out = []
for s:l in range(1, line('$'))
  let s:text = getline(s:l)
  for s:c in range(1, strlen(s:text))
    if s:text[s:c - 1] !~# '\s'
      call add(s:out, s:l . ':' . s:c . ':' . synIDattr(synID(s:l, s:c, 1), 'name'))
    endif
  endfor
endfor
call writefile(s:out, $PCFG_SYNTAX_OUT)
