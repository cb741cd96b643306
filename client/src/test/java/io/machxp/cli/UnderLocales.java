package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;

/** A machxp command run with another default locale, for the tests that its output does not follow it. */
final class UnderLocales {
    /** Decimal comma; Arabic-Indic digits; Thai digits (a locale extension picks them). */
    static final Locale[] OTHERS = {Locale.GERMANY, Locale.forLanguageTag("ar-EG"),
            Locale.forLanguageTag("th-TH-u-nu-thai")};

    private UnderLocales() {}

    /** What the command prints under the root locale, after checking that it prints the same under each of {@link #OTHERS}. */
    static String sameUnderEveryLocale(String... args) {
        String root = under(Locale.ROOT, args);
        for (Locale other : OTHERS) {
            assertThat(under(other, args)).as("%s under %s", String.join(" ", args), other).isEqualTo(root);
        }
        return root;
    }

    /** What the command prints with {@code locale} as the JVM's default; it must exit 0. */
    static String under(Locale locale, String... args) {
        Locale before = Locale.getDefault();
        Locale.setDefault(locale);
        try {
            ExitCodesTest.Run r = ExitCodesTest.run(args);
            assertThat(r.exit()).as(r.err()).isZero();
            return r.out();
        } finally {
            Locale.setDefault(before);
        }
    }
}
