build/rel/dissect/detect.o: dissect/detect.c dissect/dissect.h
dissect/dissect.h:
