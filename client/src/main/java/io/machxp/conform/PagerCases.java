package io.machxp.conform;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Every case of {@code machxp conform pager}, in the order of the spec's sections. */
public final class PagerCases {
    private PagerCases() {}

    public static List<ConformCase> all() {
        List<ConformCase> all = new ArrayList<>();
        all.addAll(SessionCases.all());
        all.addAll(PageCases.all());
        all.addAll(FutexCases.all());
        all.addAll(LeaseCases.all());
        return all;
    }

    /** The cases whose id matches {@code pattern} (a regular expression, found anywhere in the id); null: all. */
    public static List<ConformCase> matching(String pattern) {
        if (pattern == null) {
            return all();
        }
        Pattern p = Pattern.compile(pattern);
        return all().stream().filter(c -> p.matcher(c.id()).find()).toList();
    }
}
