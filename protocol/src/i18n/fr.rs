use super::Strings;

pub(super) static STRINGS: Strings = Strings {
    lang: "fr",
    rtl: false,
    dialog: "Petite enquête",
    question: [
        "Quelle est la probabilité que vous recommandiez ",
        " à un ami ou un collègue ?",
    ],
    low: "Pas du tout probable",
    high: "Très probable",
    promoter: "Ravis de l’entendre ! Qu’appréciez-vous le plus ?",
    passive: "Merci ! Que faudrait-il pour mériter un 10 ?",
    detractor: "Désolés. Qu’est-ce qui n’a pas fonctionné ?",
    placeholder: "Dites-nous en plus (facultatif)",
    contact: "Vous pouvez me contacter à ce sujet",
    review: "Partagez votre avis",
    send: "Envoyer",
    thanks: "Merci pour votre retour !",
    close: "Fermer",
    brand_fallback: "notre site",
};
