build/rel/tests/test_smtp.o: tests/test_smtp.c dissect/dissect.h \
 tests/recsink.h
dissect/dissect.h:
tests/recsink.h:
