select code from areas where code = any($1::text[])
