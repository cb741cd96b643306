package io.machxp.conform.kernel;

import io.machxp.conform.ConformCase;
import java.util.ArrayList;
import java.util.List;

/**
 * Every case of {@code machxp conform kernel}, in the order of the spec's sections; the cases that
 * end the kernel's session (directory disputes, lease, reclaim, resume) come last.
 */
public final class KernelCases {
    private KernelCases() {}

    public static List<ConformCase<KernelProbe>> all() {
        List<ConformCase<KernelProbe>> all = new ArrayList<>();
        all.addAll(KernelSessionCases.all());
        all.addAll(KernelPageCases.all());
        all.addAll(KernelMachCases.all());
        all.addAll(KernelFutexCases.all());
        all.addAll(KernelTryHeirCases.all());
        all.addAll(TaskErrorCases.all());
        all.addAll(KernelDirectoryCases.all());
        all.addAll(KernelLeaseCases.all());
        all.addAll(KernelResumeCases.all());
        return all;
    }

    public static List<ConformCase<KernelProbe>> matching(String pattern) {
        return ConformCase.matching(all(), pattern);
    }

    /** A MUST case of the kernel kit (typed, so that it can be chained). */
    static ConformCase<KernelProbe> must(String id, String title, ConformCase.Body<KernelProbe> body) {
        return ConformCase.must(id, title, body);
    }

    /** A SHOULD case of the kernel kit. */
    static ConformCase<KernelProbe> should(String id, String title, ConformCase.Body<KernelProbe> body) {
        return ConformCase.should(id, title, body);
    }

    static void that(boolean ok, String violation) {
        if (!ok) {
            throw new io.machxp.conform.Violation(violation);
        }
    }
}
