-- 0003: a search hit's excerpt, as SQLite's FTS5 snippet() gives it: up to `size` words around
-- the first word that matches, each matching word between `open` and `close`, `ellipsis` where
-- the text was cut. Words are folded exactly as the search index folds them (inbox_search_words),
-- so what is marked is what matched.
CREATE FUNCTION inbox_snippet(body text, query_words text[], open text, close text, ellipsis text, size integer)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    tokens text[];
    words integer[] := '{}';   -- the indexes in tokens of the words (the rest is what separates them)
    hit integer := 1;          -- the first matching word, counted in words
    first_word integer;
    last_word integer;
    result text := '';
    i integer;
BEGIN
    IF body IS NULL THEN RETURN NULL; END IF;
    SELECT array_agg(m[1] ORDER BY n) INTO tokens
    FROM regexp_matches(body, '([[:alnum:]]+|[^[:alnum:]]+)', 'g') WITH ORDINALITY AS t(m, n);
    IF tokens IS NULL THEN RETURN ''; END IF;
    FOR i IN 1 .. array_length(tokens, 1) LOOP
        IF tokens[i] ~ '^[[:alnum:]]' THEN words := words || i; END IF;
    END LOOP;
    IF array_length(words, 1) IS NULL THEN RETURN body; END IF;
    FOR i IN 1 .. array_length(words, 1) LOOP
        IF tsvector_to_array(inbox_search_words(tokens[words[i]])) && query_words THEN hit := i; EXIT; END IF;
    END LOOP;
    first_word := greatest(1, least(hit - size / 4, array_length(words, 1) - size + 1));
    last_word := least(array_length(words, 1), first_word + size - 1);
    IF first_word > 1 THEN result := ellipsis; END IF;
    -- Whole text at either end keeps what comes before the first word or after the last.
    FOR i IN CASE WHEN first_word = 1 THEN 1 ELSE words[first_word] END
             .. CASE WHEN last_word = array_length(words, 1) THEN array_length(tokens, 1) ELSE words[last_word] END LOOP
        IF tokens[i] ~ '^[[:alnum:]]' AND tsvector_to_array(inbox_search_words(tokens[i])) && query_words THEN
            result := result || open || tokens[i] || close;
        ELSE
            result := result || tokens[i];
        END IF;
    END LOOP;
    IF last_word < array_length(words, 1) THEN result := result || ellipsis; END IF;
    RETURN result;
END;
$$;
