package storetest

import (
	"reflect"
	"time"
)

// normalise returns a deep copy of v with every time in it, however deep, in UTC at the
// millisecond precision both adapters keep. Pointers, slices and maps are copied, so v and
// what it points to stay as they are.
func normalise[T any](v T) T {
	out := reflect.New(reflect.TypeFor[T]()).Elem()
	copyNormalised(out, reflect.ValueOf(&v).Elem())
	return out.Interface().(T)
}

var timeType = reflect.TypeFor[time.Time]()

func copyNormalised(dst, src reflect.Value) {
	switch {
	case src.Type() == timeType:
		dst.Set(reflect.ValueOf(src.Interface().(time.Time).UTC().Truncate(time.Millisecond)))
	case src.Kind() == reflect.Struct:
		for i := range src.NumField() {
			copyNormalised(dst.Field(i), src.Field(i))
		}
	case src.Kind() == reflect.Pointer && !src.IsNil():
		dst.Set(reflect.New(src.Type().Elem()))
		copyNormalised(dst.Elem(), src.Elem())
	case src.Kind() == reflect.Slice && !src.IsNil():
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			copyNormalised(dst.Index(i), src.Index(i))
		}
	case src.Kind() == reflect.Map && !src.IsNil():
		dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			copyNormalised(v, it.Value())
			dst.SetMapIndex(it.Key(), v)
		}
	default:
		dst.Set(src)
	}
}
