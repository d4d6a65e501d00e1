use super::Strings;

pub(super) static STRINGS: Strings = Strings {
    lang: "pt",
    rtl: false,
    dialog: "Pesquisa rápida",
    question: [
        "Qual a probabilidade de você recomendar ",
        " a um amigo ou colega?",
    ],
    low: "Nada provável",
    high: "Extremamente provável",
    promoter: "Que bom! Do que você mais gosta?",
    passive: "Obrigado! O que faria disso um 10?",
    detractor: "Sentimos muito. O que deu errado?",
    placeholder: "Conte-nos mais (opcional)",
    contact: "Vocês podem me contatar sobre isso",
    review: "Deixe uma avaliação",
    send: "Enviar",
    thanks: "Obrigado pela sua opinião!",
    close: "Fechar",
    brand_fallback: "nosso site",
};
