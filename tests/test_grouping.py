"""The grouping of ideas on its own (app/grouping): folding and synonyms, paraphrases grouped and near-misses kept
apart, people's decisions kept whatever the scores, buckets, the clustering against a plain reference, and
`rouages group` on CSV and JSON Lines files."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.grouping import NONE, Grouper, Settings, fold
from app.grouping.cluster import average_linkage

WORDS = Grouper(Settings(embedder=NONE))


def test_folding_drops_case_accents_emoji_and_punctuation_and_keeps_inner_dashes():
    assert fold("PROTOTYPER VITE, TESTER, AMÉLIORER 🚀 !!") == ["prototyper", "vite", "tester", "ameliorer"]
    assert fold("l'œuvre des tiers-lieux – ensemble") == ["l", "oeuvre", "des", "tiers-lieux", "ensemble"]


def test_the_fields_abbreviations_and_synonyms_become_one_concept():
    tokens = WORDS.normaliser.tokens
    assert tokens("diag partagé avec la com com") == tokens("Diagnostic partagé avec l'EPCI")
    assert "#copil" in tokens("un COPIL 2 fois par an") and "#copil" in tokens("comité de pilotage")
    assert "#association" in tokens("les assos du coin") and "#cooperative" in tokens("une SCIC")
    # The longest phrase wins: a « charte graphique » is not a cooperation charter.
    assert "#identite_visuelle" in tokens("une charte graphique") and "#charte" not in tokens("une charte graphique")


IDEAS = [
    "Trouver des financements pour le poste d'animateur",        # 0 funding the facilitator
    "BESOIN DE FINANCER UN ETP D'ANIMATEUR",                      # 1
    "Former l'animateur aux techniques de facilitation",          # 2 training the facilitator
    "Une newsletter régulière pour informer les membres",         # 3 newsletter
    "lettre d'info mensuelle interne pour les membres",           # 4
    "Une charte graphique commune pour qu'on nous reconnaisse",  # 5 visual identity
    "Rédiger une charte de coopération signée par les membres",  # 6 cooperation charter
]


@pytest.mark.parametrize("grouper", [WORDS, Grouper()], ids=["words", "words-and-vectors"])
def test_paraphrases_are_grouped_and_near_misses_kept_apart(grouper):
    grouping = grouper.group(IDEAS, grouper.vectors(IDEAS))
    together = {frozenset(g.members) for g in grouping.groups}
    assert frozenset({0, 1}) in together and frozenset({3, 4}) in together
    for i, j in [(0, 2), (5, 6), (1, 2)]:
        assert grouping.group_of[i] != grouping.group_of[j], (IDEAS[i], IDEAS[j])
    assert sorted(i for g in grouping.groups for i in g.members) == list(range(len(IDEAS)))


def test_peoples_decisions_hold_whatever_the_scores_say():
    free = WORDS.group(IDEAS)
    assert free.group_of[0] == free.group_of[1] and free.group_of[0] != free.group_of[2]
    steered = WORDS.group(IDEAS, together=[(0, 2)], apart=[(0, 1)])
    assert steered.group_of[0] == steered.group_of[2]
    assert steered.group_of[0] != steered.group_of[1]
    # Whatever else is alike, a pair kept apart never ends up in one group through a third idea.
    chained = WORDS.group(["financer l'animateur", "financer l'animateur", "financer l'animateur"], apart=[(0, 2)])
    assert chained.group_of[0] != chained.group_of[2]


def test_ideas_with_other_tags_are_never_grouped():
    texts = ["Un poste d'animateur financé", "Un poste d'animateur financé", "Un poste d'animateur financé"]
    grouping = WORDS.group(texts, buckets=["animation", "support", "animation"], together=[(0, 1)])
    assert grouping.group_of[0] == grouping.group_of[2] != grouping.group_of[1]


def test_the_representative_is_the_idea_closest_to_the_others():
    texts = ["Financer le poste d'animation", "trouver des financements pour l'animateur",
             "financer l'animatrice sur plusieurs années, au-delà des appels à projets", "Financer l'animateur"]
    grouping = WORDS.group(texts, together=[(0, 1), (1, 2), (2, 3)])
    similarity = WORDS.similarity(texts)
    centre = int(np.argmax(similarity.sum(axis=1)))
    assert grouping.groups[0].representative == centre
    assert grouping.groups[0].members[1:] == sorted(set(range(4)) - {centre})


def test_the_same_idea_typed_with_slips_is_represented_by_its_careful_spelling():
    texts = ["FÊTER CHAQUE RÉUSSITE AVEC TOUT LE COLLECTIF", "feter chaque reussite avec tout le collectif",
             "Fêter chaque réussite avec tout le collectif", "fêter chaque réussite avec tout le collectif !!"]
    grouping = WORDS.group(texts)
    assert len(grouping.groups) == 1 and grouping.groups[0].representative == 2


def test_suggestions_lie_between_the_two_thresholds_and_never_repeat_a_decision():
    grouper = Grouper(Settings(threshold=0.9, suggest=0.1, embedder=NONE))
    texts = ["Financer le poste d'animateur", "des sous pour payer l'animatrice", "un potager partagé"]
    scores = grouper.similarity(texts)
    found = grouper.group(texts).suggestions
    assert [(s.first, s.second) for s in found] == [(0, 1)]
    assert found[0].score == pytest.approx(scores[0, 1])
    assert grouper.group(texts, apart=[(0, 1)]).suggestions == []
    assert grouper.group(texts, together=[(0, 1)]).suggestions == []


def test_key_phrases_name_what_sets_a_tag_apart_as_people_wrote_it():
    groups = [["Financer l'animateur", "financer l’animateur !!"], ["des financements pour l'animatrice"],
              ["payer le poste d'animation"], ["Un potager"],
              ["Une newsletter mensuelle"], ["une newsletter tous les mois"], ["Un potager"]]
    phrases = WORDS.key_phrases(groups, ["a", "a", "a", "a", "b", "b", "b"])
    assert phrases["a"][:2] == ["animateur", "financer"]
    assert phrases["b"] == ["newsletter", "mensuelle"]


def naive_average_linkage(similarity, threshold):
    """The textbook algorithm: merge the best pair of clusters by mean similarity until none reaches the threshold."""
    clusters = [[i] for i in range(len(similarity))]
    while len(clusters) > 1:
        best, pair = -np.inf, None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                score = similarity[np.ix_(clusters[a], clusters[b])].mean()
                if score > best:
                    best, pair = score, (a, b)
        if best < threshold:
            break
        a, b = pair
        clusters[a] += clusters.pop(b)
    return sorted(sorted(c) for c in clusters)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 14).flatmap(lambda n: st.lists(st.integers(0, 1000), min_size=n * n, max_size=n * n)),
       st.floats(0.2, 0.8))
def test_the_clustering_gives_what_the_textbook_algorithm_gives(values, threshold):
    n = int(len(values) ** 0.5)
    # Distinct values: with ties the order of merges, and so the result, is a matter of convention.
    raw = np.array(values, dtype=float).reshape(n, n) / 1000 + np.arange(n * n).reshape(n, n) * 1e-7
    similarity = (raw + raw.T) / 2
    assert sorted(average_linkage(similarity, threshold)) == naive_average_linkage(similarity, threshold)


def rouages(*args, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.server", *args], capture_output=True, text=True,
                          input=input_text, timeout=120)


def test_rouages_group_adds_a_group_column_to_a_csv_keeping_its_columns_and_separator(tmp_path):
    source = tmp_path / "notes.csv"
    source.write_text("table;text;auteur\nA;Trouver des financements pour l'animateur;Léa\n"
                      "A;une newsletter mensuelle;Sam\nB;BESOIN DE FINANCER L'ANIMATRICE;Noé\n"
                      "B;Lettre d'info tous les mois;Ana\n", encoding="utf-8")
    out = tmp_path / "grouped.csv"
    done = rouages("group", str(source), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "4 rows in 2 groups" in done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")), delimiter=";"))
    assert [list(r) for r in rows][0] == ["table", "text", "auteur", "group"]
    assert rows[0]["group"] == rows[2]["group"] != rows[1]["group"] == rows[3]["group"]
    assert [r["auteur"] for r in rows] == ["Léa", "Sam", "Noé", "Ana"]
    within = rouages("group", str(source), "--by", "table")
    rows = list(csv.DictReader(io.StringIO(within.stdout), delimiter=";"))
    assert len({r["group"] for r in rows}) == 4, "ideas of different tables are never grouped"


def test_rouages_group_reads_json_lines_and_refuses_what_it_cannot_group(tmp_path):
    source = tmp_path / "ideas.jsonl"
    lines = [{"text": "Financer l'animateur", "group": "g1"}, {"text": "des sous pour l'animatrice", "group": "g1"}]
    source.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    refused = rouages("group", str(source))
    assert refused.returncode == 1 and "already has a `group` column" in refused.stderr
    done = rouages("group", str(source), "--column", "found", "--synonyms", str(write_synonyms(tmp_path)))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["group"] for r in rows] == ["g1", "g1"] and rows[0]["found"] == rows[1]["found"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("titre,auteur\nx,y\n", encoding="utf-8")
    refused = rouages("group", str(bad))
    assert refused.returncode == 1 and "no `text` column (columns: titre, auteur)" in refused.stderr
    bad.write_text("not json\n", encoding="utf-8")
    bad = bad.rename(tmp_path / "bad.jsonl")
    refused = rouages("group", str(bad))
    assert refused.returncode == 1 and "line 1: not JSON" in refused.stderr


def write_synonyms(tmp_path):
    path = tmp_path / "synonyms.yaml"
    path.write_text("potager: [jardin partagé, jardins partagés]\n", encoding="utf-8")
    return path


def test_an_events_synonyms_join_what_the_field_list_does_not_know(tmp_path):
    texts = ["un jardin partagé au pied des immeubles", "un potager au pied des immeubles"]
    plain = Grouper(Settings(threshold=0.6, embedder=NONE))
    from app.grouping import merged_synonyms, read_synonyms

    extended = Grouper(Settings(threshold=0.6, embedder=NONE), merged_synonyms(read_synonyms(write_synonyms(tmp_path))))
    assert plain.group(texts).group_of == [0, 1]
    assert extended.group(texts).group_of == [0, 0]
