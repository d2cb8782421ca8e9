build/rel/dissect/util.o: dissect/util.c dissect/dissect.h
dissect/dissect.h:
