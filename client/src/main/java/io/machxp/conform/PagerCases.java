package io.machxp.conform;

import java.util.ArrayList;
import java.util.List;

/** Every case of {@code machxp conform pager}, in the order of the spec's sections. */
public final class PagerCases {
    private PagerCases() {}

    public static List<ConformCase<PagerProbe>> all() {
        List<ConformCase<PagerProbe>> all = new ArrayList<>();
        all.addAll(SessionCases.all());
        all.addAll(DirectoryCases.all());
        all.addAll(PageCases.all());
        all.addAll(MachPageCases.all());
        all.addAll(FutexCases.all());
        all.addAll(LeaseCases.all());
        all.addAll(ResumeCases.all());
        all.addAll(GraceCases.all());
        all.addAll(ReclaimCases.all());
        all.addAll(ReclaimPartCases.all());
        return all;
    }

    /** A MUST case of the pager kit (its body typed, so that it can be chained: {@code must(...).restarting()}). */
    static ConformCase<PagerProbe> must(String id, String title, ConformCase.Body<PagerProbe> body) {
        return ConformCase.must(id, title, body);
    }

    /** A SHOULD case of the pager kit. */
    static ConformCase<PagerProbe> should(String id, String title, ConformCase.Body<PagerProbe> body) {
        return ConformCase.should(id, title, body);
    }

    /** The cases whose id matches {@code pattern} (a regular expression, found anywhere in the id); null: all. */
    public static List<ConformCase<PagerProbe>> matching(String pattern) {
        return ConformCase.matching(all(), pattern);
    }
}
