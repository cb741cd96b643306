package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
    @ParameterizedTest
    @ValueSource(strings = {"65536", "64k", "64K", "64kb", "64KB", "64KiB", "64 KiB", " 64kib "})
    void sixtyFourKibibytesWrittenAnyWay(String text) {
        assertThat(Sizes.parse(text)).isEqualTo(64 * 1024L);
    }

    @Test
    void megaAndGigaAreBinaryToo() {
        assertThat(Sizes.parse("1MiB")).isEqualTo(1L << 20);
        assertThat(Sizes.parse("2g")).isEqualTo(2L << 30);
        assertThat(Sizes.parse("512b")).isEqualTo(512);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "k", "-1", "1.5m", "64kk", "64 KiBs", "9223372036854775807k", "ten"})
    void anythingElseIsRefusedWithAnExample(String text) {
        assertThatThrownBy(() -> Sizes.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a size").hasMessageContaining("64KiB");
    }
}
