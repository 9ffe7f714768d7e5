//! The fifteen reasons an integration stops working, as the help-centre article lists them,
//! with their text in every language (exhaustive matches: a missing translation does not
//! compile).

use serde::Serialize;

use crate::prompt_text::Language;

/// Why an integration stops working, as the merchant help centre names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The provider is down, slow, or limiting how many requests it takes (rate limiting).
    ProviderDown,
    /// The app's session or token at the provider expired.
    AuthExpired,
    /// The provider rejected the API key set in the app.
    InvalidApiKey,
    /// The provider account's password, users or keys changed.
    CredentialsChanged,
    /// The app lacks a permission: not approved yet, or revoked by the merchant.
    PermissionMissing,
    /// The provider account's billing failed (unpaid bill, low balance).
    BillingIssue,
    /// The provider plan expired, or its usage limit or quota was reached.
    PlanExpired,
    /// The provider account's verification (KYC, business, phone number) is not complete.
    VerificationRequired,
    /// The provider refused under one of its policies.
    PolicyRestricted,
    /// The app was disconnected (uninstalled) from the store.
    AppDisconnected,
    /// The store plan allows fewer connected apps than are installed.
    AppLimit,
    /// A setting of the app is wrong or missing.
    Configuration,
    /// Updates wait in the queue longer than they should.
    SyncDelay,
    /// The provider changed or retired the API the app uses.
    ProviderApiChanged,
    /// A network or technical issue: anything else, including the host stopping a call.
    Network,
}

impl Reason {
    /// Every reason, in the article's order.
    pub const ALL: [Reason; 15] = [
        Reason::ProviderDown,
        Reason::AuthExpired,
        Reason::InvalidApiKey,
        Reason::CredentialsChanged,
        Reason::PermissionMissing,
        Reason::BillingIssue,
        Reason::PlanExpired,
        Reason::VerificationRequired,
        Reason::PolicyRestricted,
        Reason::AppDisconnected,
        Reason::AppLimit,
        Reason::Configuration,
        Reason::SyncDelay,
        Reason::ProviderApiChanged,
        Reason::Network,
    ];

    /// The reason's stable code, as JSON spells it.
    pub fn code(self) -> &'static str {
        match self {
            Reason::ProviderDown => "provider-down",
            Reason::AuthExpired => "auth-expired",
            Reason::InvalidApiKey => "invalid-api-key",
            Reason::CredentialsChanged => "credentials-changed",
            Reason::PermissionMissing => "permission-missing",
            Reason::BillingIssue => "billing-issue",
            Reason::PlanExpired => "plan-expired",
            Reason::VerificationRequired => "verification-required",
            Reason::PolicyRestricted => "policy-restricted",
            Reason::AppDisconnected => "app-disconnected",
            Reason::AppLimit => "app-limit",
            Reason::Configuration => "configuration",
            Reason::SyncDelay => "sync-delay",
            Reason::ProviderApiChanged => "provider-api-changed",
            Reason::Network => "network",
        }
    }

    /// The reason for a cause code the host records (a connector failure's, a host abort's,
    /// or a reason's own code); `None` for a code this host does not know, which the health
    /// view shows as [`Reason::Network`].
    ///
    /// Three mappings merge causes the article does not list apart: `usage-limit` is
    /// [`Reason::PlanExpired`] (a quota is a matter of the plan at the provider, and that
    /// reason's text says "plan expired or usage limit reached"); `rate-limited` is
    /// [`Reason::ProviderDown`] (it passes by itself, like downtime, and that reason's text
    /// says "down, slow or limiting requests"); `other` and every host abort (`deadline`,
    /// `trap`, `memory`, `fuel`, ...) are [`Reason::Network`], "network or technical issue".
    pub fn from_failure_code(code: &str) -> Option<Reason> {
        let reason = match code {
            "auth-expired" => Reason::AuthExpired,
            "invalid-credentials" | "invalid-api-key" => Reason::InvalidApiKey,
            "credentials-changed" => Reason::CredentialsChanged,
            "permission-missing" => Reason::PermissionMissing,
            "verification-required" => Reason::VerificationRequired,
            "policy-restricted" => Reason::PolicyRestricted,
            "billing-issue" => Reason::BillingIssue,
            "plan-expired" | "usage-limit" => Reason::PlanExpired,
            "provider-unavailable" | "rate-limited" | "provider-down" => Reason::ProviderDown,
            "provider-api-changed" => Reason::ProviderApiChanged,
            "config" | "configuration" => Reason::Configuration,
            "app-disconnected" => Reason::AppDisconnected,
            "app-limit" => Reason::AppLimit,
            "sync-delay" => Reason::SyncDelay,
            "network" | "other" => Reason::Network,
            // The host's own abort codes (`AbortReason::code`).
            "deadline" | "fuel" | "memory" | "table" | "host-calls" | "output" | "input"
            | "outbound" | "busy" | "merchant-busy" | "wasi" | "stack-overflow" | "stopped"
            | "trap" => Reason::Network,
            _ => return None,
        };
        Some(reason)
    }

    /// The reason's title, as the help centre words it.
    pub fn title(self, lang: Language) -> &'static str {
        use Language::*;
        use Reason::*;
        match (self, lang) {
            (ProviderDown, En) => "Third-party provider downtime",
            (ProviderDown, Hi) => "थर्ड-पार्टी प्रोवाइडर की सेवा बंद",
            (ProviderDown, As) => "তৃতীয় পক্ষৰ প্ৰদানকাৰীৰ সেৱা বন্ধ",
            (AuthExpired, En) => "Expired authentication",
            (AuthExpired, Hi) => "लॉगिन की अवधि समाप्त",
            (AuthExpired, As) => "লগইনৰ ম্যাদ উকলিল",
            (InvalidApiKey, En) => "Invalid API key",
            (InvalidApiKey, Hi) => "अमान्य API कुंजी",
            (InvalidApiKey, As) => "অবৈধ API চাবি",
            (CredentialsChanged, En) => "Changed password or account access",
            (CredentialsChanged, Hi) => "पासवर्ड या खाते की पहुँच बदल गई",
            (CredentialsChanged, As) => "পাছৱৰ্ড বা একাউণ্টৰ প্ৰৱেশাধিকাৰ সলনি হৈছে",
            (PermissionMissing, En) => "Missing permissions",
            (PermissionMissing, Hi) => "ज़रूरी अनुमतियाँ नहीं हैं",
            (PermissionMissing, As) => "প্ৰয়োজনীয় অনুমতি নাই",
            (BillingIssue, En) => "Provider billing issue",
            (BillingIssue, Hi) => "प्रोवाइडर बिलिंग की समस्या",
            (BillingIssue, As) => "প্ৰদানকাৰীৰ বিলৰ সমস্যা",
            (PlanExpired, En) => "Provider plan expired or usage limit reached",
            (PlanExpired, Hi) => "प्रोवाइडर प्लान समाप्त या उपयोग सीमा पूरी",
            (PlanExpired, As) => "প্ৰদানকাৰীৰ প্লেনৰ ম্যাদ উকলিল বা ব্যৱহাৰৰ সীমা শেষ",
            (VerificationRequired, En) => "Account verification problem",
            (VerificationRequired, Hi) => "खाता सत्यापन की समस्या",
            (VerificationRequired, As) => "একাউণ্ট সত্যাপনৰ সমস্যা",
            (PolicyRestricted, En) => "Policy restriction",
            (PolicyRestricted, Hi) => "नीति के कारण रोक",
            (PolicyRestricted, As) => "নীতিগত বাধা",
            (AppDisconnected, En) => "App disconnected by merchant",
            (AppDisconnected, Hi) => "मर्चेंट ने ऐप डिसकनेक्ट किया",
            (AppDisconnected, As) => "বেপাৰীয়ে এপ বিচ্ছিন্ন কৰিছে",
            (AppLimit, En) => "Connected app limit issue",
            (AppLimit, Hi) => "कनेक्टेड ऐप की सीमा की समस्या",
            (AppLimit, As) => "সংযুক্ত এপৰ সীমাৰ সমস্যা",
            (Configuration, En) => "Incorrect configuration",
            (Configuration, Hi) => "गलत कॉन्फ़िगरेशन",
            (Configuration, As) => "ভুল কনফিগাৰেচন",
            (SyncDelay, En) => "Data sync delay",
            (SyncDelay, Hi) => "डेटा सिंक में देरी",
            (SyncDelay, As) => "তথ্য চিংকত পলম",
            (ProviderApiChanged, En) => "Provider API change",
            (ProviderApiChanged, Hi) => "प्रोवाइडर API में बदलाव",
            (ProviderApiChanged, As) => "প্ৰদানকাৰীৰ API সলনি হৈছে",
            (Network, En) => "Network or technical issue",
            (Network, Hi) => "नेटवर्क या तकनीकी समस्या",
            (Network, As) => "নেটৱৰ্ক বা কাৰিকৰী সমস্যা",
        }
    }

    /// One sentence: what the reason means for the merchant and what fixes it.
    pub fn explain(self, lang: Language) -> &'static str {
        use Language::*;
        use Reason::*;
        match (self, lang) {
            (ProviderDown, En) => {
                "The provider is down, slow or limiting how many requests it accepts; this usually passes by itself, so check the provider's status page and wait."
            }
            (ProviderDown, Hi) => {
                "प्रोवाइडर की सेवा बंद है, धीमी है या अनुरोधों की संख्या सीमित कर रही है; यह आमतौर पर अपने आप ठीक हो जाता है, इसलिए प्रोवाइडर का स्टेटस पेज देखें और इंतज़ार करें।"
            }
            (ProviderDown, As) => {
                "প্ৰদানকাৰীৰ সেৱা বন্ধ, লেহেমীয়া বা অনুৰোধৰ সংখ্যা সীমিত কৰি আছে; সাধাৰণতে ই নিজে নিজে ঠিক হয়, সেয়েহে প্ৰদানকাৰীৰ ষ্টেটাছ পৃষ্ঠা চাওক আৰু অপেক্ষা কৰক।"
            }
            (AuthExpired, En) => {
                "The app's login at the provider has expired; reconnect the app to your provider account."
            }
            (AuthExpired, Hi) => {
                "प्रोवाइडर पर ऐप के लॉगिन की अवधि समाप्त हो गई है; ऐप को अपने प्रोवाइडर खाते से फिर से कनेक्ट करें।"
            }
            (AuthExpired, As) => {
                "প্ৰদানকাৰীত এপটোৰ লগইনৰ ম্যাদ উকলি গৈছে; এপটো আপোনাৰ প্ৰদানকাৰীৰ একাউণ্টৰ সৈতে পুনৰ সংযোগ কৰক।"
            }
            (InvalidApiKey, En) => {
                "The provider rejected the API key set in the app; copy the correct key from the provider dashboard into the app's settings."
            }
            (InvalidApiKey, Hi) => {
                "प्रोवाइडर ने ऐप में डाली गई API कुंजी अस्वीकार कर दी है; प्रोवाइडर डैशबोर्ड से सही कुंजी कॉपी करके ऐप की सेटिंग में डालें।"
            }
            (InvalidApiKey, As) => {
                "প্ৰদানকাৰীয়ে এপত দিয়া API চাবিটো নাকচ কৰিছে; প্ৰদানকাৰীৰ ডেশ্বব'ৰ্ডৰ পৰা শুদ্ধ চাবিটো কপি কৰি এপৰ ছেটিংছত দিয়ক।"
            }
            (CredentialsChanged, En) => {
                "The password, users or keys of the provider account changed, so the old ones no longer work; enter the new key or reconnect the app."
            }
            (CredentialsChanged, Hi) => {
                "प्रोवाइडर खाते का पासवर्ड, उपयोगकर्ता या कुंजी बदल गई है, इसलिए पुरानी जानकारी अब काम नहीं करती; नई कुंजी डालें या ऐप को फिर से कनेक्ट करें।"
            }
            (CredentialsChanged, As) => {
                "প্ৰদানকাৰীৰ একাউণ্টৰ পাছৱৰ্ড, ব্যৱহাৰকাৰী বা চাবি সলনি হোৱাৰ বাবে পুৰণিবোৰে আৰু কাম নকৰে; নতুন চাবি দিয়ক বা এপটো পুনৰ সংযোগ কৰক।"
            }
            (PermissionMissing, En) => {
                "The app lacks a permission it needs, or one was revoked; approve the app's permissions again in your store's app settings."
            }
            (PermissionMissing, Hi) => {
                "ऐप के पास कोई ज़रूरी अनुमति नहीं है या वह वापस ले ली गई है; अपने स्टोर की ऐप सेटिंग में ऐप की अनुमतियाँ फिर से मंज़ूर करें।"
            }
            (PermissionMissing, As) => {
                "এপটোৰ কোনো প্ৰয়োজনীয় অনুমতি নাই বা সেয়া প্ৰত্যাহাৰ কৰা হৈছে; আপোনাৰ দোকানৰ এপ ছেটিংছত এপটোৰ অনুমতিবোৰ পুনৰ অনুমোদন কৰক।"
            }
            (BillingIssue, En) => {
                "The provider account has an unpaid bill or a low balance; pay or top up at the provider."
            }
            (BillingIssue, Hi) => {
                "प्रोवाइडर खाते में बिल बकाया है या बैलेंस कम है; प्रोवाइडर के यहाँ भुगतान करें या रिचार्ज करें।"
            }
            (BillingIssue, As) => {
                "প্ৰদানকাৰীৰ একাউণ্টত বিল বাকী আছে বা বেলেঞ্চ কম; প্ৰদানকাৰীক পৰিশোধ কৰক বা ৰিচাৰ্জ কৰক।"
            }
            (PlanExpired, En) => {
                "Your plan at the provider has expired or its usage limit has been reached; renew or upgrade the plan, or wait for the limit to reset."
            }
            (PlanExpired, Hi) => {
                "प्रोवाइडर पर आपका प्लान समाप्त हो गया है या उसकी उपयोग सीमा पूरी हो गई है; प्लान रिन्यू या अपग्रेड करें, या सीमा रीसेट होने का इंतज़ार करें।"
            }
            (PlanExpired, As) => {
                "প্ৰদানকাৰীত আপোনাৰ প্লেনৰ ম্যাদ উকলিছে বা ইয়াৰ ব্যৱহাৰৰ সীমা শেষ হৈছে; প্লেন নবীকৰণ বা আপগ্ৰেড কৰক, নহ'লে সীমা পুনৰ আৰম্ভ হোৱালৈ অপেক্ষা কৰক।"
            }
            (VerificationRequired, En) => {
                "The provider needs your account verification (such as KYC) to be completed; finish it in the provider dashboard."
            }
            (VerificationRequired, Hi) => {
                "प्रोवाइडर को आपके खाते का सत्यापन (जैसे KYC) पूरा चाहिए; इसे प्रोवाइडर डैशबोर्ड में पूरा करें।"
            }
            (VerificationRequired, As) => {
                "প্ৰদানকাৰীয়ে আপোনাৰ একাউণ্টৰ সত্যাপন (যেনে KYC) সম্পূৰ্ণ কৰিবলৈ বিচাৰিছে; প্ৰদানকাৰীৰ ডেশ্বব'ৰ্ডত ইয়াক সম্পূৰ্ণ কৰক।"
            }
            (PolicyRestricted, En) => {
                "The provider blocked the request under one of its policies; read the provider's reason and contact the provider."
            }
            (PolicyRestricted, Hi) => {
                "प्रोवाइडर ने अपनी किसी नीति के तहत अनुरोध रोक दिया है; प्रोवाइडर का बताया कारण पढ़ें और प्रोवाइडर से संपर्क करें।"
            }
            (PolicyRestricted, As) => {
                "প্ৰদানকাৰীয়ে নিজৰ কোনো নীতিৰ অধীনত অনুৰোধটো বন্ধ কৰিছে; প্ৰদানকাৰীয়ে দিয়া কাৰণটো পঢ়ক আৰু প্ৰদানকাৰীৰ সৈতে যোগাযোগ কৰক।"
            }
            (AppDisconnected, En) => {
                "The app was disconnected from your store, so it does nothing; install it again to use it."
            }
            (AppDisconnected, Hi) => {
                "ऐप आपके स्टोर से डिसकनेक्ट हो गया है, इसलिए यह कुछ नहीं करता; इसे इस्तेमाल करने के लिए फिर से इंस्टॉल करें।"
            }
            (AppDisconnected, As) => {
                "এপটো আপোনাৰ দোকানৰ পৰা বিচ্ছিন্ন কৰা হৈছে, সেয়েহে ই একো কাম নকৰে; ব্যৱহাৰ কৰিবলৈ ইয়াক পুনৰ ইনষ্টল কৰক।"
            }
            (AppLimit, En) => {
                "Your store plan allows fewer connected apps than you have installed; upgrade the plan or remove an app you do not use."
            }
            (AppLimit, Hi) => {
                "आपके स्टोर प्लान में जितने ऐप की अनुमति है, उससे ज़्यादा ऐप इंस्टॉल हैं; प्लान अपग्रेड करें या कोई ऐसा ऐप हटाएँ जिसका आप उपयोग नहीं करते।"
            }
            (AppLimit, As) => {
                "আপোনাৰ দোকানৰ প্লেনে যিমান এপ সংযোগ কৰিবলৈ দিয়ে, তাতকৈ বেছি এপ ইনষ্টল কৰা আছে; প্লেন আপগ্ৰেড কৰক বা ব্যৱহাৰ নকৰা এটা এপ আঁতৰাওক।"
            }
            (Configuration, En) => {
                "A setting of the app is wrong or missing; fix it in the app's settings as the details say."
            }
            (Configuration, Hi) => {
                "ऐप की कोई सेटिंग गलत है या छूटी हुई है; विवरण में बताए अनुसार ऐप की सेटिंग ठीक करें।"
            }
            (Configuration, As) => {
                "এপটোৰ কোনো ছেটিং ভুল বা বাদ পৰিছে; বিৱৰণত কোৱা মতে এপৰ ছেটিংছ শুধৰাওক।"
            }
            (SyncDelay, En) => {
                "Updates for this app have been waiting longer than usual; they are sent as it catches up, so check the provider if the delay lasts."
            }
            (SyncDelay, Hi) => {
                "इस ऐप के अपडेट सामान्य से ज़्यादा समय से कतार में रुके हैं; ये अपने आप भेजे जाएँगे, इसलिए देरी बनी रहे तो प्रोवाइडर की स्थिति जाँचें।"
            }
            (SyncDelay, As) => {
                "এই এপৰ আপডেটবোৰ সাধাৰণতকৈ বেছি সময় ধৰি শাৰীত ৰৈ আছে; সেইবোৰ নিজে নিজে পঠিওৱা হ'ব, সেয়েহে পলম চলি থাকিলে প্ৰদানকাৰীৰ অৱস্থা চাওক।"
            }
            (ProviderApiChanged, En) => {
                "The provider changed or retired the service the app uses; ask the app's publisher for an updated version."
            }
            (ProviderApiChanged, Hi) => {
                "प्रोवाइडर ने वह सेवा बदल दी है या बंद कर दी है जिसका ऐप उपयोग करता है; ऐप के प्रकाशक से नया वर्ज़न माँगें।"
            }
            (ProviderApiChanged, As) => {
                "এপটোৱে ব্যৱহাৰ কৰা সেৱাটো প্ৰদানকাৰীয়ে সলনি বা বন্ধ কৰিছে; এপৰ প্ৰকাশকৰ পৰা নতুন সংস্কৰণ বিচাৰক।"
            }
            (Network, En) => {
                "A network or technical problem interrupted the app; it is retried automatically, so contact the app's publisher only if it continues."
            }
            (Network, Hi) => {
                "किसी नेटवर्क या तकनीकी समस्या से ऐप का काम रुक गया; इसे अपने आप दोबारा आज़माया जाता है, इसलिए समस्या बनी रहे तभी ऐप के प्रकाशक से संपर्क करें।"
            }
            (Network, As) => {
                "নেটৱৰ্ক বা কাৰিকৰী সমস্যাৰ বাবে এপটোৰ কামত বাধা পৰিছে; ইয়াক নিজে নিজে পুনৰ চেষ্টা কৰা হয়, সেয়েহে সমস্যা থাকি গ'লেহে এপৰ প্ৰকাশকৰ সৈতে যোগাযোগ কৰক।"
            }
        }
    }
}
