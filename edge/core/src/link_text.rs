//! The words of the e-mail touchpoint that the widget does not have (the e-mail around the
//! question, the hosted page's buttons and error pages), in the widget's seven languages. The
//! question and its follow-ups are the widget's own ([`nps_protocol::i18n`]).

/// Every text of the e-mail and the hosted page, for one language.
pub struct LinkText {
    /// Subject, before and after the brand name.
    pub subject: [&'static str; 2],
    /// Subject prefix of the one reminder.
    pub reminder: &'static str,
    /// Greeting line above the question.
    pub hello: &'static str,
    /// Under the buttons: one click answers.
    pub one_click: &'static str,
    /// Link text to the page, for mail clients that hide the buttons.
    pub open_page: &'static str,
    /// Why the recipient got this e-mail.
    pub footer: &'static str,
    /// Hosted page title.
    pub title: &'static str,
    /// The button that sends a pre-selected score when the page runs no script.
    pub confirm: &'static str,
    /// "Your score" label before the chosen score.
    pub your_score: &'static str,
    /// Change the score (back to the scale).
    pub change: &'static str,
    /// The answer was refused as a second one within the site's window.
    pub already: &'static str,
    /// 400: not a link.
    pub malformed: &'static str,
    /// 403: a link that cannot be verified.
    pub forged: &'static str,
    /// 410: an expired link.
    pub expired: &'static str,
    /// 429 / 503: try again.
    pub later: &'static str,
}

/// The table for a BCP 47 tag (`pt-BR` → Portuguese); unknown → English.
pub fn text_for(locale: &str) -> &'static LinkText {
    let primary = locale.split(['-', '_']).next().unwrap_or("");
    match primary.to_ascii_lowercase().as_str() {
        "fr" => &FR,
        "de" => &DE,
        "es" => &ES,
        "it" => &IT,
        "pt" => &PT,
        "ar" => &AR,
        _ => &EN,
    }
}

static EN: LinkText = LinkText {
    subject: ["", ": one quick question"],
    reminder: "Reminder: ",
    hello: "Hello,",
    one_click: "One click answers. It takes ten seconds.",
    open_page: "Answer on the web page",
    footer: "You receive this e-mail after your recent order. This survey link is personal: please do not forward it.",
    title: "One quick question",
    confirm: "Send my score",
    your_score: "Your score:",
    change: "Change my score",
    already: "You already answered this survey recently. Thank you!",
    malformed: "This survey link is incomplete. Please open the link from your e-mail again.",
    forged: "This survey link cannot be verified. Please open the link from your e-mail again.",
    expired: "This survey has closed. Thank you for your time.",
    later: "We could not save your answer just now. Please try again in a minute.",
};

static FR: LinkText = LinkText {
    subject: ["", " : une petite question"],
    reminder: "Rappel : ",
    hello: "Bonjour,",
    one_click: "Un clic suffit pour répondre. Cela prend dix secondes.",
    open_page: "Répondre sur la page web",
    footer: "Vous recevez cet e-mail suite à votre commande récente. Ce lien d’enquête est personnel : merci de ne pas le transférer.",
    title: "Une petite question",
    confirm: "Envoyer ma note",
    your_score: "Votre note :",
    change: "Changer ma note",
    already: "Vous avez déjà répondu à cette enquête récemment. Merci !",
    malformed: "Ce lien d’enquête est incomplet. Veuillez rouvrir le lien de votre e-mail.",
    forged: "Ce lien d’enquête ne peut pas être vérifié. Veuillez rouvrir le lien de votre e-mail.",
    expired: "Cette enquête est close. Merci pour votre temps.",
    later: "Nous n’avons pas pu enregistrer votre réponse. Veuillez réessayer dans une minute.",
};

static DE: LinkText = LinkText {
    subject: ["", ": eine kurze Frage"],
    reminder: "Erinnerung: ",
    hello: "Hallo,",
    one_click: "Ein Klick genügt. Es dauert zehn Sekunden.",
    open_page: "Auf der Webseite antworten",
    footer: "Sie erhalten diese E-Mail nach Ihrer letzten Bestellung. Dieser Umfragelink ist persönlich: Bitte leiten Sie ihn nicht weiter.",
    title: "Eine kurze Frage",
    confirm: "Bewertung senden",
    your_score: "Ihre Bewertung:",
    change: "Bewertung ändern",
    already: "Sie haben diese Umfrage vor Kurzem schon beantwortet. Vielen Dank!",
    malformed: "Dieser Umfragelink ist unvollständig. Bitte öffnen Sie den Link aus Ihrer E-Mail erneut.",
    forged: "Dieser Umfragelink kann nicht geprüft werden. Bitte öffnen Sie den Link aus Ihrer E-Mail erneut.",
    expired: "Diese Umfrage ist beendet. Vielen Dank für Ihre Zeit.",
    later: "Ihre Antwort konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einer Minute erneut.",
};

static ES: LinkText = LinkText {
    subject: ["", ": una pregunta rápida"],
    reminder: "Recordatorio: ",
    hello: "Hola:",
    one_click: "Un clic basta para responder. Son diez segundos.",
    open_page: "Responder en la página web",
    footer: "Recibe este correo tras su pedido reciente. Este enlace de encuesta es personal: por favor, no lo reenvíe.",
    title: "Una pregunta rápida",
    confirm: "Enviar mi puntuación",
    your_score: "Su puntuación:",
    change: "Cambiar mi puntuación",
    already: "Ya respondió a esta encuesta hace poco. ¡Gracias!",
    malformed: "Este enlace de encuesta está incompleto. Vuelva a abrir el enlace de su correo.",
    forged: "No se puede verificar este enlace de encuesta. Vuelva a abrir el enlace de su correo.",
    expired: "Esta encuesta ha finalizado. Gracias por su tiempo.",
    later: "No pudimos guardar su respuesta ahora. Inténtelo de nuevo en un minuto.",
};

static IT: LinkText = LinkText {
    subject: ["", ": una domanda veloce"],
    reminder: "Promemoria: ",
    hello: "Buongiorno,",
    one_click: "Basta un clic per rispondere. Ci vogliono dieci secondi.",
    open_page: "Rispondi sulla pagina web",
    footer: "Riceve questa e-mail dopo il suo ordine recente. Questo link al sondaggio è personale: la preghiamo di non inoltrarlo.",
    title: "Una domanda veloce",
    confirm: "Invia il mio voto",
    your_score: "Il suo voto:",
    change: "Cambia il mio voto",
    already: "Ha già risposto a questo sondaggio di recente. Grazie!",
    malformed: "Questo link al sondaggio è incompleto. Riapra il link dalla sua e-mail.",
    forged: "Questo link al sondaggio non può essere verificato. Riapra il link dalla sua e-mail.",
    expired: "Questo sondaggio è chiuso. Grazie per il suo tempo.",
    later: "Non siamo riusciti a salvare la risposta. Riprovi tra un minuto.",
};

static PT: LinkText = LinkText {
    subject: ["", ": uma pergunta rápida"],
    reminder: "Lembrete: ",
    hello: "Olá,",
    one_click: "Um clique basta para responder. Leva dez segundos.",
    open_page: "Responder na página web",
    footer: "Recebe este e-mail após a sua encomenda recente. Este link de inquérito é pessoal: por favor, não o reencaminhe.",
    title: "Uma pergunta rápida",
    confirm: "Enviar a minha nota",
    your_score: "A sua nota:",
    change: "Mudar a minha nota",
    already: "Já respondeu a este inquérito recentemente. Obrigado!",
    malformed: "Este link de inquérito está incompleto. Abra novamente o link do seu e-mail.",
    forged: "Não é possível verificar este link de inquérito. Abra novamente o link do seu e-mail.",
    expired: "Este inquérito terminou. Obrigado pelo seu tempo.",
    later: "Não foi possível guardar a sua resposta agora. Tente novamente dentro de um minuto.",
};

static AR: LinkText = LinkText {
    subject: ["", ": سؤال سريع"],
    reminder: "تذكير: ",
    hello: "مرحبًا،",
    one_click: "نقرة واحدة تكفي للإجابة. يستغرق الأمر عشر ثوانٍ.",
    open_page: "أجب على صفحة الويب",
    footer: "تصلك هذه الرسالة بعد طلبك الأخير. رابط الاستطلاع هذا شخصي: يرجى عدم إعادة توجيهه.",
    title: "سؤال سريع",
    confirm: "أرسل تقييمي",
    your_score: "تقييمك:",
    change: "غيّر تقييمي",
    already: "لقد أجبت عن هذا الاستطلاع مؤخرًا. شكرًا لك!",
    malformed: "رابط الاستطلاع هذا غير مكتمل. يرجى فتح الرابط من بريدك الإلكتروني مرة أخرى.",
    forged: "لا يمكن التحقق من رابط الاستطلاع هذا. يرجى فتح الرابط من بريدك الإلكتروني مرة أخرى.",
    expired: "انتهى هذا الاستطلاع. شكرًا لوقتك.",
    later: "تعذّر حفظ إجابتك الآن. يرجى المحاولة مرة أخرى بعد دقيقة.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text_and_unknown_falls_back_to_english() {
        for tag in ["en", "fr-CA", "de", "es", "it", "pt-BR", "ar"] {
            let t = text_for(tag);
            let all = [
                t.subject[1],
                t.reminder,
                t.hello,
                t.one_click,
                t.open_page,
                t.footer,
                t.title,
                t.confirm,
                t.your_score,
                t.change,
                t.already,
                t.malformed,
                t.forged,
                t.expired,
                t.later,
            ];
            assert!(all.iter().all(|s| !s.trim().is_empty()), "{tag}");
        }
        assert_eq!(text_for("fr").confirm, "Envoyer ma note");
        assert_eq!(text_for("xx").confirm, text_for("en").confirm);
        // The languages are the widget's, no more, no fewer.
        assert_eq!(
            nps_protocol::i18n::strings_for("pt").lang,
            "pt",
            "the widget speaks Portuguese too"
        );
    }
}
