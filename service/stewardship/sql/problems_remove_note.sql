update problem_reports set note = '', note_removed = true where id = $1 and note <> '' returning id
