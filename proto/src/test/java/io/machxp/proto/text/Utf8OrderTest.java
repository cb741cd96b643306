package io.machxp.proto.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Utf8OrderTest {
    @Test
    void aNameOutsideTheBasicPlaneSortsAfterOneNearItsTopAsItsBytesDo() {
        String high = "\uFF5E";                // U+FF5E, three UTF-8 bytes EF BD 9E
        String supplementary = "\uD83D\uDE00"; // U+1F600, four UTF-8 bytes F0 9F 98 80
        assertThat(high.compareTo(supplementary)).as("UTF-16 order puts the surrogate first").isPositive();
        assertThat(Utf8Order.compare(high, supplementary)).isNegative();
    }

    @Test
    void agreesWithUnsignedUtf8BytesOnSeededNames() {
        SplittableRandom r = new SplittableRandom(7);
        int[] pool = {'a', 'z', 0x7F, 0xE9, 0x7FF, 0x800, 0xFF5E, 0xFFFD, 0x10000, 0x1F600, 0x10FFFF};
        for (int n = 0; n < 20_000; n++) {
            String a = name(r, pool);
            String b = name(r, pool);
            int bytes = Integer.signum(Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8),
                    b.getBytes(StandardCharsets.UTF_8)));
            assertThat(Integer.signum(Utf8Order.compare(a, b))).as("%s vs %s", a, b).isEqualTo(bytes);
        }
    }

    private static String name(SplittableRandom r, int[] pool) {
        StringBuilder s = new StringBuilder();
        for (int i = r.nextInt(4); i > 0; i--) {
            s.appendCodePoint(pool[r.nextInt(pool.length)]);
        }
        return s.toString();
    }
}
