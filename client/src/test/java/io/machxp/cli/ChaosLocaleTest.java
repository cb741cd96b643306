package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A seeded chaos run prints the same bytes whatever the JVM's default locale: a history read under
 * LANG=de_DE must not say "5,267 ms" where another says "5.267 ms", nor a locale with its own digits
 * print other digits. Each command runs under the root locale and under others, and the outputs
 * are compared whole.
 */
class ChaosLocaleTest {
    private static void sameUnderEveryLocale(String... args) {
        assertThat(UnderLocales.sameUnderEveryLocale(args)).contains(" ms ");
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
