"""The default reference grid: stages, indicators and next steps for the five functions of the default frameworks.

Written for Rouages as a starting point; organisers replace it with their own reference grid in the event file
(docs/diagnostic.md).
"""

from __future__ import annotations

STAGES = [
    {"key": "a_lancer", "label": "À lancer", "description": "Rien n'est encore engagé sur cette fonction."},
    {"key": "emergence", "label": "Émergence",
     "description": "Des premières actions existent, portées par quelques personnes."},
    {"key": "structuration", "label": "Structuration",
     "description": "La fonction est organisée : rôles, outils et temps dédiés."},
    {"key": "consolidation", "label": "Consolidation",
     "description": "La fonction est installée et partagée par tout le collectif."},
    {"key": "rayonnement", "label": "Rayonnement",
     "description": "La fonction dure, s'évalue et inspire d'autres coopérations."},
]


def _indicators(*pairs: tuple[str, str]) -> list[dict]:
    return [{"key": key, "label": label} for key, label in pairs]


FUNCTIONS = {
    "animation": {
        "indicators": _indicators(
            ("porteur", "Une structure porteuse reconnue coordonne le collectif"),
            ("rencontres", "Des rencontres régulières réunissent les membres"),
            ("charte", "Des règles de fonctionnement sont écrites et partagées"),
            ("temps", "Du temps d'animation est financé")),
        "next_steps": {
            "a_lancer": "Repérer les acteurs du territoire concernés et les réunir une première fois.",
            "emergence": "Installer un rythme de rencontres et dire clairement qui coordonne le collectif.",
            "structuration": "Écrire ensemble les règles du collectif et financer du temps d'animation.",
            "consolidation": "Ouvrir le collectif à de nouveaux membres et partager l'animation entre plusieurs "
                             "structures.",
            "rayonnement": "Transmettre vos pratiques d'animation à des coopérations qui démarrent.",
        },
    },
    "creativite": {
        "indicators": _indicators(
            ("besoins", "Les besoins du territoire ont été recensés avec ses acteurs"),
            ("ideation", "Des temps ouverts pour imaginer des activités ont eu lieu"),
            ("test", "Une activité nouvelle a été testée à petite échelle"),
            ("veille", "Le collectif suit les initiatives d'autres territoires")),
        "next_steps": {
            "a_lancer": "Recenser les besoins et les envies des acteurs du territoire.",
            "emergence": "Organiser un atelier pour imaginer des activités, ouvert à des profils variés.",
            "structuration": "Tester une première activité à petite échelle et en tirer les leçons.",
            "consolidation": "Réserver du temps et un budget réguliers pour imaginer les activités de demain.",
            "rayonnement": "Partager vos méthodes de création avec d'autres territoires.",
        },
    },
    "valorisation": {
        "indicators": _indicators(
            ("presentation", "Une présentation courte du projet existe"),
            ("recit", "Les réalisations sont racontées régulièrement"),
            ("effets", "Des effets sur le territoire sont mesurés"),
            ("bilan", "Partenaires et financeurs reçoivent un bilan")),
        "next_steps": {
            "a_lancer": "Écrire une présentation courte du projet commun.",
            "emergence": "Choisir un ou deux canaux pour raconter vos avancées régulièrement.",
            "structuration": "Définir quelques indicateurs d'effets sur le territoire et les suivre.",
            "consolidation": "Présenter chaque année un bilan aux partenaires, aux élus et aux financeurs.",
            "rayonnement": "Faire connaître votre démarche au-delà du territoire.",
        },
    },
    "support": {
        "indicators": _indicators(
            ("budget", "Un budget commun est établi"),
            ("mutualisation", "Locaux, matériel ou compétences sont mis en commun"),
            ("financements", "Plusieurs sources de financement sont mobilisées"),
            ("modele", "Un modèle économique collectif est écrit")),
        "next_steps": {
            "a_lancer": "Lister ce que chaque membre peut mettre en commun.",
            "emergence": "Établir un premier budget commun et répartir les contributions.",
            "structuration": "Diversifier les financements et mettre en commun locaux, matériel ou compétences.",
            "consolidation": "Écrire un modèle économique collectif qui ne dépende pas d'un seul financeur.",
            "rayonnement": "Mettre vos ressources à la disposition d'autres coopérations.",
        },
    },
    "gestion_de_projet": {
        "indicators": _indicators(
            ("feuille_de_route", "Une feuille de route partagée fixe les étapes"),
            ("decisions", "On sait qui décide de quoi"),
            ("suivi", "Des outils de suivi sont utilisés par tous"),
            ("evaluation", "Le projet est évalué à dates fixes")),
        "next_steps": {
            "a_lancer": "Écrire en une page l'objectif commun et les prochaines étapes.",
            "emergence": "Dire qui décide de quoi et tenir un calendrier partagé.",
            "structuration": "Choisir des outils de suivi communs et faire des points d'étape réguliers.",
            "consolidation": "Évaluer le projet avec les partenaires et ajuster la feuille de route.",
            "rayonnement": "Rassembler vos outils de pilotage pour pouvoir les transmettre.",
        },
    },
}
