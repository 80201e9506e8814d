// frsearch's exported analysis and translated queries, run through Lucene 8 (the library
// OpenSearch and Elasticsearch are built on). Compiled at run time by lucene.py against
// Debian's liblucene8-java; it reads what lucene.py writes and prints nothing of its own.
//
//   java LuceneBench analyze SPEC.json TEXTS.txt OUT.txt ANALYZER...
//       one output line per text and analyzer: tokens "term\u001fstart\u001fend\u001fposinc", tab-separated
//   java LuceneBench rank SPEC.json DOCS.tsv (QUERIES.jsonl RUN.tsv)...
//       BM25 index of the documents (id, title, body), each query's top 100 as "qid\tdocid\tscore"

import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.custom.CustomAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.analysis.tokenattributes.*;
import org.apache.lucene.document.*;
import org.apache.lucene.index.*;
import org.apache.lucene.search.*;
import org.apache.lucene.search.similarities.*;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.QueryBuilder;

public class LuceneBench {

    // ---- a small JSON reader (objects, arrays, strings, numbers, true/false/null) ----
    static final class Json {
        final String s; int i = 0;
        Json(String s) { this.s = s; }
        static Object parse(String s) { Json j = new Json(s); Object v = j.value(); return v; }
        void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }
        Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>(); i++; ws();
                if (s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    ws(); String k = (String) value(); ws(); i++; // ':'
                    m.put(k, value()); ws();
                    if (s.charAt(i++) == '}') return m;
                }
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>(); i++; ws();
                if (s.charAt(i) == ']') { i++; return l; }
                while (true) {
                    l.add(value()); ws();
                    if (s.charAt(i++) == ']') return l;
                }
            }
            if (c == '"') {
                StringBuilder b = new StringBuilder(); i++;
                while (true) {
                    char d = s.charAt(i++);
                    if (d == '"') return b.toString();
                    if (d == '\\') {
                        char e = s.charAt(i++);
                        switch (e) {
                            case 'n': b.append('\n'); break;
                            case 't': b.append('\t'); break;
                            case 'r': b.append('\r'); break;
                            case 'b': b.append('\b'); break;
                            case 'f': b.append('\f'); break;
                            case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                            default: b.append(e);
                        }
                    } else b.append(d);
                }
            }
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            return Double.parseDouble(s.substring(start, i));
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) { return (Map<String, Object>) o; }
    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) { return o == null ? List.of() : (List<Object>) o; }
    static Map<String, String> params(Object o) {
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, Object> e : obj(o).entrySet()) out.put(e.getKey(), String.valueOf(e.getValue()));
        return out;
    }

    // ---- analyzers from the spec lucene.py wrote ----
    static Map<String, Analyzer> analyzers(Map<String, Object> spec, Path dir) throws IOException {
        Map<String, Analyzer> out = new HashMap<>();
        for (Map.Entry<String, Object> e : obj(spec.get("analyzers")).entrySet()) {
            Map<String, Object> a = obj(e.getValue());
            CustomAnalyzer.Builder b = CustomAnalyzer.builder(dir);
            for (Object cf : list(a.get("char_filters"))) {
                List<Object> p = list(cf); b.addCharFilter((String) p.get(0), params(p.get(1)));
            }
            List<Object> t = list(a.get("tokenizer"));
            b.withTokenizer((String) t.get(0), params(t.get(1)));
            for (Object f : list(a.get("filters"))) {
                List<Object> p = list(f); b.addTokenFilter((String) p.get(0), params(p.get(1)));
            }
            out.put(e.getKey(), b.build());
        }
        return out;
    }

    static String clean(String s) { return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' '); }

    static void analyze(Map<String, Analyzer> all, String textsPath, String outPath, List<String> names) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(Paths.get(textsPath), StandardCharsets.UTF_8);
             BufferedWriter out = Files.newBufferedWriter(Paths.get(outPath), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                for (String name : names) {
                    StringBuilder b = new StringBuilder();
                    try (TokenStream ts = all.get(name).tokenStream("body", line)) {
                        CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
                        OffsetAttribute off = ts.addAttribute(OffsetAttribute.class);
                        PositionIncrementAttribute inc = ts.addAttribute(PositionIncrementAttribute.class);
                        ts.reset();
                        boolean first = true;
                        while (ts.incrementToken()) {
                            if (!first) b.append('\t');
                            first = false;
                            b.append(clean(term.toString())).append('\u001f').append(off.startOffset())
                             .append('\u001f').append(off.endOffset()).append('\u001f').append(inc.getPositionIncrement());
                        }
                        ts.end();
                    }
                    out.write(b.toString());
                    out.write('\n');
                }
            }
        }
    }

    // ---- Query DSL -> Lucene queries, as the engines build them ----
    static final class Dsl {
        final Map<String, Analyzer> byField;
        Dsl(Map<String, Analyzer> byField) { this.byField = byField; }

        Query boost(Query q, Map<String, Object> p) {
            Object b = p.get("boost");
            return b == null ? q : new BoostQuery(q, ((Double) b).floatValue());
        }

        List<String> terms(String field, String text) throws IOException {
            List<String> out = new ArrayList<>();
            try (TokenStream ts = byField.get(field).tokenStream(field, text)) {
                CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
                ts.reset();
                while (ts.incrementToken()) out.add(term.toString());
                ts.end();
            }
            return out;
        }

        Query parse(Object node) throws IOException {
            Map<String, Object> n = obj(node);
            String kind = n.keySet().iterator().next();
            Map<String, Object> body = obj(n.get(kind));
            if (kind.equals("bool")) {
                BooleanQuery.Builder b = new BooleanQuery.Builder();
                boolean positive = false;
                for (Object c : list(body.get("must"))) { b.add(parse(c), BooleanClause.Occur.MUST); positive = true; }
                for (Object c : list(body.get("filter"))) { b.add(parse(c), BooleanClause.Occur.FILTER); positive = true; }
                for (Object c : list(body.get("should"))) { b.add(parse(c), BooleanClause.Occur.SHOULD); positive = true; }
                for (Object c : list(body.get("must_not"))) b.add(parse(c), BooleanClause.Occur.MUST_NOT);
                if (!positive) b.add(new MatchAllDocsQuery(), BooleanClause.Occur.MUST);
                Object msm = body.get("minimum_should_match");
                if (msm != null) b.setMinimumNumberShouldMatch(((Double) msm).intValue());
                return boost(b.build(), body);
            }
            String field = body.keySet().iterator().next();
            Map<String, Object> p = obj(body.get(field));
            QueryBuilder qb = new QueryBuilder(byField.get(field));
            Query q;
            switch (kind) {
                case "match": {
                    boolean and = "and".equals(p.get("operator"));
                    q = qb.createBooleanQuery(field, (String) p.get("query"), and ? BooleanClause.Occur.MUST : BooleanClause.Occur.SHOULD);
                    break;
                }
                case "match_phrase": {
                    Object slop = p.get("slop");
                    q = qb.createPhraseQuery(field, (String) p.get("query"), slop == null ? 0 : ((Double) slop).intValue());
                    break;
                }
                case "term": q = new TermQuery(new Term(field, (String) p.get("value"))); break;
                case "prefix": q = new PrefixQuery(new Term(field, (String) p.get("value"))); break;
                case "fuzzy": {
                    String value = (String) p.get("value");
                    Object f = p.get("fuzziness");
                    int edits;
                    if (f instanceof Double) edits = ((Double) f).intValue();
                    else edits = value.length() <= 2 ? 0 : value.length() <= 5 ? 1 : 2; // AUTO
                    q = new FuzzyQuery(new Term(field, value), edits, 0, 50, true);
                    break;
                }
                default: throw new IllegalArgumentException("query kind not handled: " + kind);
            }
            if (q == null) q = new MatchNoDocsQuery();
            return boost(q, p);
        }
    }

    static void rank(Map<String, Object> spec, Map<String, Analyzer> all, String docsPath, List<String> jobs) throws IOException {
        Map<String, Analyzer> byField = new HashMap<>();
        Map<String, Similarity> sims = new HashMap<>();
        for (Map.Entry<String, Object> e : obj(spec.get("fields")).entrySet()) {
            Map<String, Object> f = obj(e.getValue());
            byField.put(e.getKey(), all.get((String) f.get("analyzer")));
            sims.put(e.getKey(), new BM25Similarity(((Double) f.get("k1")).floatValue(), ((Double) f.get("b")).floatValue()));
        }
        Similarity sim = new PerFieldSimilarityWrapper() {
            public Similarity get(String name) { return sims.getOrDefault(name, new BM25Similarity()); }
        };
        Analyzer analyzer = new PerFieldAnalyzerWrapper(new org.apache.lucene.analysis.core.KeywordAnalyzer(), byField);
        ByteBuffersDirectory dir = new ByteBuffersDirectory();
        IndexWriterConfig config = new IndexWriterConfig(analyzer).setSimilarity(sim).setRAMBufferSizeMB(256);
        long t0 = System.nanoTime();
        int count = 0;
        try (IndexWriter writer = new IndexWriter(dir, config);
             BufferedReader in = Files.newBufferedReader(Paths.get(docsPath), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] parts = line.split("\t", -1);
                org.apache.lucene.document.Document doc = new org.apache.lucene.document.Document();
                doc.add(new StringField("id", parts[0], Field.Store.YES));
                doc.add(new TextField("title", parts[1], Field.Store.NO));
                doc.add(new TextField("title.exact", parts[1], Field.Store.NO));
                doc.add(new TextField("body", parts[2], Field.Store.NO));
                doc.add(new TextField("body.exact", parts[2], Field.Store.NO));
                writer.addDocument(doc);
                count++;
            }
        }
        System.err.printf("lucene: indexed %d documents in %.1f s%n", count, (System.nanoTime() - t0) / 1e9);
        IndexSearcher searcher = new IndexSearcher(DirectoryReader.open(dir));
        searcher.setSimilarity(sim);
        Dsl dsl = new Dsl(byField);
        for (int j = 0; j < jobs.size(); j += 2) {
            long t1 = System.nanoTime();
            int queries = 0;
            try (BufferedReader in = Files.newBufferedReader(Paths.get(jobs.get(j)), StandardCharsets.UTF_8);
                 BufferedWriter out = Files.newBufferedWriter(Paths.get(jobs.get(j + 1)), StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    Map<String, Object> item = obj(Json.parse(line));
                    Query q = dsl.parse(item.get("query"));
                    for (ScoreDoc hit : searcher.search(q, 100).scoreDocs) {
                        out.write(item.get("qid") + "\t" + searcher.doc(hit.doc).get("id") + "\t" + hit.score + "\n");
                    }
                    queries++;
                }
            }
            System.err.printf("lucene: %d queries of %s in %.1f s%n", queries, jobs.get(j), (System.nanoTime() - t1) / 1e9);
        }
    }

    public static void main(String[] args) throws Exception {
        Path specPath = Paths.get(args[1]);
        Map<String, Object> spec = obj(Json.parse(new String(Files.readAllBytes(specPath), StandardCharsets.UTF_8)));
        Map<String, Analyzer> all = analyzers(spec, specPath.getParent());
        if (args[0].equals("analyze")) {
            analyze(all, args[2], args[3], Arrays.asList(args).subList(4, args.length));
        } else if (args[0].equals("rank")) {
            rank(spec, all, args[2], Arrays.asList(args).subList(3, args.length));
        } else {
            throw new IllegalArgumentException("analyze or rank");
        }
    }
}
