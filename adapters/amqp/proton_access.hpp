// The Proton C object behind a Proton C++ wrapper.
//
// Proton C++ 0.37 has no public call for a few things the intake needs: a
// rejected outcome that carries an error condition (AMQP 1.0 section
// 3.4.2), the max-message-size of a link (section 2.7.3), and a stable key
// for a connection or link. The wrappers keep the C pointer in a protected
// member; a subclass may read it, which is all this does. Use only on the
// thread that runs the object's connection.
#pragma once

namespace licgate::adapters::amqp {

template <typename Wrapper>
auto protonC(const Wrapper& wrapper) {
  struct Access : Wrapper {
    explicit Access(const Wrapper& other) : Wrapper(other) {}
    auto get() const { return this->pn_object(); }
  };
  return Access(wrapper).get();
}

}  // namespace licgate::adapters::amqp
