package io.machxp.proto.xp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import io.machxp.proto.task.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/xp-spec.md and the .proto files describe the same protocol: every message (and enum) of
 * xp.proto has its own section in the spec's message reference (a heading naming it in
 * backticks), and every request and reply of task.proto's MachTask service (the task interface
 * the kernel kit drives a kernel with) is named in its task-interface section.
 */
class XpSpecCoverageTest {
    private static final Path SPEC = Path.of("..", "docs", "xp-spec.md");

    @Test
    void everyXpMessageHasItsSection() throws IOException {
        String spec = Files.readString(SPEC);
        List<String> missing = new ArrayList<>();
        for (Descriptor m : Xp.getDescriptor().getMessageTypes()) {
            if (!Pattern.compile("(?m)^### 12\\.\\d+ `" + m.getName() + "`$").matcher(spec).find()) {
                missing.add(m.getName());
            }
        }
        for (EnumDescriptor e : Xp.getDescriptor().getEnumTypes()) {
            if (!Pattern.compile("(?m)^### 12\\.\\d+ Enums .*`" + e.getName() + "`").matcher(spec).find()) {
                missing.add(e.getName());
            }
        }
        assertThat(missing).as("messages of xp.proto without a section '### 12.n `Name`' in " + SPEC).isEmpty();
        assertThat(Xp.getDescriptor().getMessageTypes()).hasSizeGreaterThan(25); // the check saw the file
    }

    @Test
    void everyMachTaskMessageIsNamedInTheTaskInterfaceSection() throws IOException {
        String spec = Files.readString(SPEC);
        int from = spec.indexOf("## 11. The task interface");
        int to = spec.indexOf("## 12. Message reference");
        assertThat(from).isPositive();
        String section = spec.substring(from, to);
        List<String> missing = new ArrayList<>();
        var service = Task.getDescriptor().findServiceByName("MachTask");
        for (var method : service.getMethods()) {
            for (Descriptor m : List.of(method.getInputType(), method.getOutputType())) {
                if (!section.contains("`" + m.getName() + "`") && !missing.contains(m.getName())) {
                    missing.add(m.getName());
                }
            }
        }
        assertThat(service.getMethods()).hasSizeGreaterThan(15); // the check saw the service
        assertThat(missing).as("messages of task.proto's MachTask service not named in section 11 of " + SPEC)
                .isEmpty();
    }

    @Test
    void everyXpErrorReasonHasItsRowWithAGrpcCode() throws IOException {
        String spec = Files.readString(SPEC);
        for (String reason : new String[] {"EPROTO", "EBADMSG", "EPROTONOSUPPORT", "EINVAL", "EEXIST", "EAGAIN",
                "ESTALE", "ETIMEDOUT"}) {
            assertThat(spec).as(reason).containsPattern("(?m)^\\|.*\\| (FAILED_PRECONDITION|INVALID_ARGUMENT|"
                    + "UNIMPLEMENTED|ALREADY_EXISTS|RESOURCE_EXHAUSTED) \\| " + reason + " \\|$");
        }
    }
}
