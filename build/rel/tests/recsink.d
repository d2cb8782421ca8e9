build/rel/tests/recsink.o: tests/recsink.c tests/recsink.h \
 dissect/dissect.h
tests/recsink.h:
dissect/dissect.h:
