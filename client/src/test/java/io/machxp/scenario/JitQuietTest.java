package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class JitQuietTest {

    private static String directives() throws Exception {
        return ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "compilerDirectivesPrint", new Object[] {new String[0]}, new String[] {String[].class.getName()}).toString();
    }

    @Test
    void excludesEveryMethodFromCompilationUntilClosed() throws Exception {
        String before = directives();
        try (JitQuiet quiet = JitQuiet.start()) {
            assertThat(quiet.active()).as("HotSpot has the DiagnosticCommand MBean").isTrue();
            assertThat(directives()).as("the directive on top of the stack").isNotEqualTo(before).contains("*.*");
        }
        assertThat(directives()).as("closed: the stack as it was").isEqualTo(before);
    }
}
