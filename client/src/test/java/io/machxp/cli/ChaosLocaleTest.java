package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * A seeded chaos run prints the same bytes whatever the JVM's default locale: a history read under
 * LANG=de_DE must not say "5,267 ms" where another says "5.267 ms", nor a locale with its own digits
 * print other digits. Each command runs under the root locale and under others, and the outputs
 * are compared whole.
 */
class ChaosLocaleTest {
    /** Decimal comma; Arabic-Indic digits; Thai digits (a locale extension picks them). */
    private static final Locale[] OTHERS = {Locale.GERMANY, Locale.forLanguageTag("ar-EG"),
            Locale.forLanguageTag("th-TH-u-nu-thai")};

    private static String under(Locale locale, String... args) {
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

    private static void sameUnderEveryLocale(String... args) {
        String root = under(Locale.ROOT, args);
        assertThat(root).contains(" ms ");
        for (Locale other : OTHERS) {
            assertThat(under(other, args)).as("%s under %s", String.join(" ", args), other).isEqualTo(root);
        }
    }

    @Test
    void aFutexHistoryIsTheSameUnderEveryLocale() {
        sameUnderEveryLocale("chaos", "--seed", "3", "--history", "--duration-ms", "200");
    }

    @Test
    void aReplicatedPagersHistoryIsTheSameUnderEveryLocale() {
        sameUnderEveryLocale("chaos", "--replicas", "3", "--seed", "2", "--history", "--duration-ms", "200");
    }

    @Test
    void anIpcHistoryIsTheSameUnderEveryLocale() {
        sameUnderEveryLocale("chaos", "--ipc", "--seed", "2", "--history", "--duration-ms", "200");
    }
}
