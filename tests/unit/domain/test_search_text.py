"""Search terms: case and accents folded, CJK as character pairs, matches found again."""

from __future__ import annotations

from chat_tui.domain.search_text import (
    fold,
    fold_with_offsets,
    fts_query,
    index_terms,
    match_spans,
    parse_query,
)


def test_case_and_accents_fold_away() -> None:
    assert fold("Café CRÈME Straße ﬁne") == "cafe creme strasse fine"
    assert fold("e\u0301te") == "ete"  # a decomposed accent too


def test_cjk_is_cut_into_pairs_and_single_characters() -> None:
    terms = index_terms("我们用中文分词 and Python中文")
    assert terms.words.split() == [
        "我们",
        "们用",
        "用中",
        "中文",
        "文分",
        "分词",
        "and",
        "python",
        "中文",
    ]
    assert "中" in terms.chars.split()


def test_queries_become_fts_phrases() -> None:
    assert fts_query(parse_query("pars")) == 'words : ("pars" *)'
    assert fts_query(parse_query('"json in"')) == 'words : ("json" + "in")'
    assert fts_query(parse_query("中文分")) == 'words : ("中文" + "文分")'
    assert fts_query(parse_query("中")) == 'chars : "中"'
    assert parse_query('  "" ,, ') == []


def test_match_spans_point_into_the_original_text() -> None:
    text = "Le Café de e\u0301te, Straße! 我们用中文分词。"
    spans = match_spans(text, parse_query("cafe ete strasse 文分"))
    assert [text[a:b] for a, b in spans] == ["Café", "e\u0301te", "Straße", "文分"]


def test_a_quoted_phrase_matches_whole_words_only() -> None:
    text = "parse JSON in Python; json inside"
    assert [text[a:b] for a, b in match_spans(text, parse_query('"json in"'))] == ["JSON in"]


def test_folding_keeps_every_offset() -> None:
    text = "ÀB ﬁ 한국"
    folded, starts, ends = fold_with_offsets(text)
    assert folded == fold(text) == "ab fi 한국"
    assert len(starts) == len(ends) == len(folded)
    assert text[starts[3] : ends[4]] == "ﬁ"
