use super::Strings;

pub(super) static STRINGS: Strings = Strings {
    lang: "es",
    rtl: false,
    dialog: "Encuesta rápida",
    question: [
        "¿Qué probabilidad hay de que recomiende ",
        " a un amigo o colega?",
    ],
    low: "Nada probable",
    high: "Muy probable",
    promoter: "¡Nos alegra! ¿Qué es lo que más le gusta?",
    passive: "¡Gracias! ¿Qué haría falta para un 10?",
    detractor: "Lo sentimos. ¿Qué salió mal?",
    placeholder: "Cuéntenos más (opcional)",
    contact: "Pueden contactarme sobre esto",
    review: "Escriba una reseña",
    send: "Enviar",
    thanks: "¡Gracias por su opinión!",
    close: "Cerrar",
    brand_fallback: "nuestro sitio",
};
