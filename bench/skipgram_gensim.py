"""The gensim side of the skip-gram benchmark (see bench/skipgram-bench.ts).

Trains word2vec skip-gram (gensim 4, Debian python3-gensim) on the corpus file the bench
wrote (one document per line, words separated by spaces) with the bench's settings,
times model.train alone (the vocabulary is built before the clock starts), saves the
input vectors in word2vec text format and prints one JSON line.
Run with Debian's Python: /usr/bin/python3 bench/skipgram_gensim.py --corpus FILE --out VEC ...
"""
import argparse, json, time
from gensim.models import Word2Vec


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--corpus', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--dim', type=int, default=100)
    p.add_argument('--window', type=int, default=3)
    p.add_argument('--negatives', type=int, default=5)
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--min-count', type=int, default=3)
    p.add_argument('--subsample', type=float, default=1e-4)
    p.add_argument('--lr', type=float, default=0.05)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    # corpus_file mode: gensim's own multi-threaded reader, its fastest path (one line, one sentence).
    model = Word2Vec(sg=1, vector_size=a.dim, window=a.window, negative=a.negatives, min_count=a.min_count, sample=a.subsample,
                     alpha=a.lr, min_alpha=a.lr * 1e-4, workers=a.threads, epochs=a.epochs, seed=a.seed)
    model.build_vocab(corpus_file=a.corpus)
    t0 = time.perf_counter()
    model.train(corpus_file=a.corpus, total_words=model.corpus_total_words, epochs=a.epochs)
    seconds = time.perf_counter() - t0
    model.wv.save_word2vec_format(a.out)
    print(json.dumps({'impl': 'gensim', 'seconds': seconds, 'corpus_words': model.corpus_total_words, 'vocab': len(model.wv)}))


if __name__ == '__main__':
    main()
