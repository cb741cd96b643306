package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** machxp completion bash|zsh prints picocli's script, which knows the commands and their options. */
class CompletionCommandTest {
    @Test
    void theScriptCompletesCommandsAndOptions() {
        for (String shell : new String[] {"bash", "zsh"}) {
            ExitCodesTest.Run r = ExitCodesTest.run("completion", shell);
            assertThat(r.exit()).isZero();
            assertThat(r.out()).contains("complete -F").contains("pager").contains("kernel").contains("--connect")
                    .contains("--metrics-port").contains("cluster").contains("ZSH_VERSION");
        }
    }

    @Test
    void anotherShellIsAUsageError() {
        ExitCodesTest.Run r = ExitCodesTest.run("completion", "fish");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("fish").contains("bash, zsh");
    }
}
