package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

/** machxp --version names the version and the commit the build saw, or says there was none. */
class VersionTest {
    @Test
    void theBuildWritesTheVersionAndCommit() {
        Properties built = Version.load();
        assertThat(built.getProperty("git.build.version")).isNotBlank();
        assertThat(ExitCodesTest.run("--version").out()).startsWith("machxp " + built.getProperty("git.build.version"));
    }

    @Test
    void aCommitIsShownWithItsTimeAndLocalChanges() {
        Properties p = new Properties();
        p.setProperty("git.build.version", "1.2.3");
        p.setProperty("git.commit.id.abbrev", "abc1234");
        p.setProperty("git.commit.time", "2026-12-02T20:00:00Z");
        p.setProperty("git.dirty", "true");
        assertThat(Version.line(p)).isEqualTo("machxp 1.2.3 (commit abc1234 + local changes, 2026-12-02T20:00:00Z)");
    }

    @Test
    void withoutGitTheVersionStaysAndTheCommitIsUnknown() {
        Properties p = new Properties();
        p.setProperty("git.build.version", "1.2.3");
        assertThat(Version.line(p)).isEqualTo("machxp 1.2.3 (commit unknown: built outside a git checkout)");
    }
}
